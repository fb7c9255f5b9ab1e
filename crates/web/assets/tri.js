// Column sorting for the conseil board: each header is a button; a second press reverses.
// The header's aria-sort says the order to assistive technology.
(function () {
  for (const table of document.querySelectorAll("table.sortable")) {
    const heads = table.querySelectorAll("thead th");
    table.querySelectorAll("thead button").forEach((button) => {
      button.addEventListener("click", () => {
        const col = Number(button.dataset.col);
        const text = button.dataset.type === "text";
        const th = button.closest("th");
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const key = (row) => row.cells[col].dataset.sort || "";
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          // Empty cells (no grade) last whatever the direction.
          if (x === "" || y === "") return (x === "") - (y === "");
          const order = text ? x.localeCompare(y, "fr") : Number(x) - Number(y);
          return ascending ? order : -order;
        });
        rows.forEach((row) => body.appendChild(row));
      });
    });
  }
})();
