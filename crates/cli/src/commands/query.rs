//! `suivi query`: one GraphQL operation run in process.

use super::*;

#[derive(Args)]
pub(crate) struct QueryArgs {
    #[arg(long, env = "SUIVI_STORE", default_value = "sqlite:suivi.db")]
    store: String,
    /// The GraphQL document, e.g. '{ classes { name } }'.
    query: String,
    /// Variables as a JSON object.
    #[arg(long)]
    variables: Option<String>,
}

pub(crate) async fn run(args: QueryArgs) -> anyhow::Result<ExitCode> {
    let variables = match &args.variables {
        Some(text) => Some(
            serde_json::from_str::<serde_json::Value>(text)
                .context("--variables is not a JSON object")?,
        ),
        None => None,
    };
    let answer = suivi_graphql::query_once(&args.store, &args.query, variables).await?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    let failed = answer
        .get("errors")
        .and_then(|e| e.as_array())
        .is_some_and(|e| !e.is_empty());
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
