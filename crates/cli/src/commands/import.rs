//! `suivi import`: event files, grade exports and the national formats; `--restore`.

use super::*;

pub(crate) fn parse_format(text: &str) -> Result<suivi_cli::import::Format, String> {
    suivi_cli::import::Format::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = suivi_cli::import::Format::NAMES
            .iter()
            .map(|(n, _)| *n)
            .collect();
        format!("{text:?} is not a format: {}", names.join(", "))
    })
}

#[derive(Args)]
pub(crate) struct ImportArgs {
    /// Store URL: sqlite:PATH or memory:.
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// Pupils' data keys to load first (keys.jsonl from `fixtures generate`).
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Write the good lines of a file with bad ones, and list the bad ones.
    #[arg(long)]
    skip_bad: bool,
    /// Name of the school a grades CSV, SIECLE or STS file registers when the store has
    /// none (and which school to import into when it has several).
    #[arg(long, default_value = "Établissement")]
    school_name: String,
    /// Restore `suivi export` files exactly, into an empty store only: every event keeps
    /// its global position, stream version and `recorded_at`. Without it, an import
    /// records the events anew (this store's positions and clock).
    #[arg(long, conflicts_with_all = ["skip_bad"])]
    restore: bool,
    /// jsonl, grades-csv, siecle, sts, moodle-quiz or pix-orga (default: from the file's
    /// extension and content: jsonl or grades-csv).
    #[arg(long, value_parser = parse_format)]
    format: Option<suivi_cli::import::Format>,
    /// Print what the files would change and write nothing (siecle, sts, moodle-quiz,
    /// pix-orga).
    #[arg(long)]
    dry_run: bool,
    /// moodle-quiz: the quiz's title in suivi.
    #[arg(long)]
    quiz: Option<String>,
    /// moodle-quiz: the class the quiz is for (pupils are matched by name within it).
    #[arg(long)]
    class: Option<String>,
    /// moodle-quiz: the quiz's subject (default: the one subject taught in --class, else
    /// the school's only subject).
    #[arg(long)]
    subject: Option<String>,
    /// moodle-quiz: register pupils the report has and suivi lacks, in --class.
    #[arg(long)]
    create_missing: bool,
    /// Files to import, in order; a refused file stops the import.
    #[arg(required_unless_present = "keys")]
    files: Vec<PathBuf>,
}

pub(crate) async fn restore_files(
    gateway: &Gateway,
    files: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    for (i, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        let report = suivi_cli::restore::restore(gateway, &name, &bytes).await?;
        for e in &report.errors {
            eprintln!("{name}: {e}");
        }
        println!("{}", report.summary());
        if !report.errors.is_empty() {
            let rest = files.len() - i - 1;
            if rest > 0 {
                eprintln!("{rest} file(s) after it not restored");
            }
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    // Before anything is written: `suivi import DIR/*` on a generated directory names the
    // keys file among the files, and importing the others first would be a half import.
    for path in &args.files {
        if suivi_cli::import::is_keys_file(path)
            .with_context(|| format!("reading {}", path.display()))?
        {
            anyhow::bail!(
                "{}: {}; nothing was imported",
                path.display(),
                suivi_cli::import::KEYS_FILE_GIVEN
            );
        }
    }
    let store = open(&args.store).await?;
    if args.restore {
        // Checked before the keys are loaded: a refused restore changes nothing.
        suivi_cli::restore::require_empty(store.as_ref(), &args.store).await?;
    }
    if let Some(path) = &args.keys {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let report = suivi_cli::import::load_keys(store.as_ref(), &bytes).await?;
        if !report.errors.is_empty() {
            bad_lines(path, &report.errors, "no key loaded");
            return Ok(ExitCode::FAILURE);
        }
        println!(
            "{}: {} key(s) loaded, {} already present",
            path.display(),
            report.loaded,
            report.already_present
        );
    }
    let gateway = Gateway::new(store)
        .await
        .context("reading the log into the write model")?;
    if args.restore {
        return restore_files(&gateway, &args.files).await;
    }
    let options = ImportOptions {
        skip_bad: args.skip_bad,
        school_name: args.school_name,
        progress: true,
        dry_run: args.dry_run,
        quiz: args.quiz,
        class: args.class,
        subject: args.subject,
        create_missing: args.create_missing,
    };
    let mut importer = Importer::new(&gateway, options).await?;
    let mut failed = false;
    for (i, path) in args.files.iter().enumerate() {
        let report = importer.import_path(path, args.format).await?;
        if !report.errors.is_empty() {
            let mut err = std::io::stderr().lock();
            for e in &report.errors {
                writeln!(err, "{}: {e}", report.name)?;
            }
        }
        println!("{}", report.summary());
        if report.dry_run {
            for change in &report.changes {
                println!("  {change}");
            }
        }
        if report.refused() {
            failed = true;
            let rest = args.files.len() - i - 1;
            if rest > 0 {
                eprintln!("{rest} file(s) after it not imported");
            }
            break;
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
