//! Integration tests: the real binary in fresh temp dirs, one module per
//! subcommand (mirrors `src/cmd`).

mod util;

mod browser;
mod cases;
mod check;
mod demo;
mod evaluate;
mod generate;
mod hardening;
mod layers;
mod parties;
mod report;
mod review;
mod score;
mod screen;
mod train;
