//! `suivi fixtures generate`: a generated school.

use super::*;

#[derive(Subcommand)]
pub(crate) enum FixturesCommand {
    /// A lycée polyvalent over the 2025-2026 school year: events.jsonl and keys.jsonl.
    Generate(GenerateArgs),
}

#[derive(Args)]
pub(crate) struct GenerateArgs {
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    seed: u64,
    #[arg(long, default_value_t = 30)]
    classes: usize,
    #[arg(long, default_value_t = 28)]
    pupils_per_class: usize,
}

pub(crate) fn run(command: FixturesCommand) -> anyhow::Result<ExitCode> {
    let FixturesCommand::Generate(args) = command;
    let options = suivi_cli::fixtures::Options {
        out: args.out,
        seed: args.seed,
        classes: args.classes,
        pupils_per_class: args.pupils_per_class,
    };
    let started = std::time::Instant::now();
    let bar = progress::bar(true, 0, "generating");
    let report = suivi_cli::fixtures::generate(&options, &bar)?;
    println!("{}", report.summary(started.elapsed()));
    Ok(ExitCode::SUCCESS)
}
