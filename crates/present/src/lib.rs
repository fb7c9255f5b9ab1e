//! What a teacher or a parent reads, computed without IO: French numbers ("12,5") and dates
//! ("12 mars 2026"), HTML escaping, and the spider chart as inline SVG. The web pages
//! (`suivi-web`) and the polars report (`suivi-analytics`) both draw with it, so the board
//! a professeur principal prints and the report `suivi report conseil` writes agree.

pub mod format;
pub mod paris;
pub mod spider;
