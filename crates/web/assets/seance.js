// The live board: the tiles come again from /seances/{id}/flux (server-sent events) at
// every change; status changes are read out through the polite live region; "dernière
// activité il y a N s" counts on between pushes, on the server's clock.
(function () {
  const board = document.getElementById("tableau");
  const said = document.getElementById("annonces");
  const link = document.getElementById("liaison");
  if (!board) return;
  let skew = 0; // server time minus this browser's time, in ms
  const readClock = () => {
    const live = board.querySelector(".live");
    if (live && live.dataset.now) skew = Date.parse(live.dataset.now) - Date.now();
  };
  const words = (s) => s < 60 ? `il y a ${s} s` : s < 3600 ? `il y a ${Math.floor(s / 60)} min` : `il y a ${Math.floor(s / 3600)} h`;
  const tick = () => {
    const now = Date.now() + skew;
    for (const span of board.querySelectorAll(".ago[data-since]")) {
      if (!span.dataset.since) continue;
      const s = Math.max(0, Math.floor((now - Date.parse(span.dataset.since)) / 1000));
      span.textContent = "dernière activité " + words(s);
    }
  };
  readClock();
  setInterval(tick, 1000);
  const source = new EventSource(board.dataset.flux);
  source.addEventListener("tableau", (e) => {
    board.innerHTML = e.data;
    board.dataset.updated = String(Date.now());
    readClock();
    tick();
  });
  source.addEventListener("annonce", (e) => { said.textContent = e.data; });
  source.addEventListener("fin", (e) => { link.textContent = e.data; source.close(); });
  source.onerror = () => { link.textContent = "Liaison interrompue, nouvelle tentative…"; };
  source.onopen = () => { link.textContent = "Mise à jour automatique."; };
})();
