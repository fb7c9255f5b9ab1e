//! Writes a lycée's SIECLE pupil export (`BEE_ELEVES`) for the import benchmark:
//! `cargo run --release -p suivi-cli --example siecle_lycee -- OUT.xml [PUPILS] [DIVISIONS]
//! [next-month]` (default 1,500 pupils in 50 divisions, 30 each). `next-month` writes the
//! export a month later: the first 10 pupils in another division, the next 5 gone, 5 new
//! ones. Deterministic: the same arguments give the same file. See BENCHMARKS.md.

use std::fmt::Write as _;

const LAST: [&str; 20] = [
    "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY",
    "MOREAU", "SIMON", "LAURENT", "LEFÈVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX",
    "VINCENT", "FOURNIER",
];
const FIRST: [&str; 20] = [
    "Léa", "Hugo", "Chloé", "Noé", "Inès", "Jules", "Maëlys", "Éloïse", "Théo", "Anaïs", "Lucas",
    "Emma", "Gabriel", "Jade", "Louis", "Zoé", "Raphaël", "Lina", "Arthur", "Manon",
];

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .unwrap_or_else(|| "ElevesSansAdresses.xml".into());
    let pupils: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_500);
    let divisions: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(50)
        .max(1);
    let next_month = args.next().as_deref() == Some("next-month");
    let gone = |i: usize| next_month && (10..15).contains(&i);
    let count = if next_month { pupils + 5 } else { pupils };
    let levels = ["2NDE", "1G", "TG"];
    let division = |i: usize| {
        let moved = usize::from(next_month && i < 10);
        let d = (i + moved) % divisions;
        format!("{}{}", levels[d % levels.len()], d / levels.len() + 1)
    };
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BEE_ELEVES VERSION=\"3.1\">\n  <PARAMETRES>\n    <UAJ>0691234X</UAJ>\n    <ANNEE_SCOLAIRE>2025</ANNEE_SCOLAIRE>\n    <DATE_EXPORT>{}</DATE_EXPORT>\n  </PARAMETRES>\n  <DONNEES>\n    <ELEVES>\n",
        if next_month { "03/11/2025" } else { "06/10/2025" }
    );
    for i in (0..count).filter(|i| !gone(*i)) {
        let id = 100_000 + i;
        let _ = write!(
            xml,
            "      <ELEVE ELEVE_ID=\"{id}\" ELENOET=\"{i}\">\n        <ID_NATIONAL>{:09}AB</ID_NATIONAL>\n        <NOM_DE_FAMILLE>{}</NOM_DE_FAMILLE>\n        <NOM_USAGE>{}</NOM_USAGE>\n        <PRENOM>{}</PRENOM>\n        <PRENOM2></PRENOM2>\n        <DATE_NAISS>{:02}/{:02}/{}</DATE_NAISS>\n        <CODE_SEXE>{}</CODE_SEXE>\n        <CODE_MEF>20010018110</CODE_MEF>\n        <CODE_STATUT>ST</CODE_STATUT>\n      </ELEVE>\n",
            70_000_000 + i,
            LAST[i % LAST.len()],
            LAST[i % LAST.len()],
            FIRST[(i / LAST.len()) % FIRST.len()],
            1 + i % 28,
            1 + i % 12,
            2008 + i % 3,
            1 + i % 2,
        );
    }
    xml.push_str("    </ELEVES>\n    <STRUCTURES>\n");
    for i in (0..count).filter(|i| !gone(*i)) {
        let _ = write!(
            xml,
            "      <STRUCTURES_ELEVE ELEVE_ID=\"{}\">\n        <STRUCTURE>\n          <CODE_STRUCTURE>{}</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>D</TYPE_STRUCTURE>\n        </STRUCTURE>\n        <STRUCTURE>\n          <CODE_STRUCTURE>G_LV2_{}</CODE_STRUCTURE>\n          <TYPE_STRUCTURE>G</TYPE_STRUCTURE>\n        </STRUCTURE>\n      </STRUCTURES_ELEVE>\n",
            100_000 + i,
            division(i),
            i % 3,
        );
    }
    xml.push_str("    </STRUCTURES>\n  </DONNEES>\n</BEE_ELEVES>\n");
    std::fs::write(&out, xml)?;
    eprintln!("{out}: {pupils} pupils in {divisions} divisions");
    Ok(())
}
