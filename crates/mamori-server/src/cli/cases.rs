//! `mamori cases list|show|move`: the issuer's protection cases from the command line, through
//! the same flow as the admin API (a move queues the cardholder's mail with it; the serving
//! verifier's outbox worker delivers it).

// A command line's output is its interface: printing is the point here.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use clap::Subcommand;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::flow::FlowError;
use crate::model::{CaseId, CaseState, ProtectionCase};
use crate::state::AppState;
use crate::text::format_amount;
use crate::wire::cases::{CaseList, CaseView, MovedView};

#[derive(Debug, Subcommand)]
pub(super) enum CasesCommand {
    /// List cases, oldest first: every case, or those in one state.
    List {
        /// open, under_review, refunded or declined.
        #[arg(long, value_parser = parse_state)]
        state: Option<CaseState>,
        /// Print JSON (`{"items": [...]}`, as the admin API answers).
        #[arg(long)]
        json: bool,
    },
    /// Show one case with the facts of the reported charge.
    Show {
        /// The case id (pc_…).
        id: CaseId,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move a case (open → under_review → refunded | declined) and mail the cardholder.
    Move {
        /// The case id (pc_…).
        id: CaseId,
        /// under_review, refunded or declined.
        #[arg(long, value_parser = parse_state)]
        state: CaseState,
        /// The issuer's note (replaces the last one; not mailed to the cardholder).
        #[arg(long)]
        note: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn parse_state(text: &str) -> Result<CaseState, String> {
    CaseState::parse(text)
        .ok_or_else(|| "the state is open, under_review, refunded or declined".to_owned())
}

pub(super) async fn run(config: &Config, command: CasesCommand) -> Result<(), super::Failure> {
    let (store, secrets) = super::open(config).await?;
    let state = AppState::new(config.clone(), store, secrets, Arc::new(SystemClock));
    let flow = state.flow();
    match command {
        CasesCommand::List { state, json } => {
            let cases = flow.cases(state).await.map_err(|e| format!("{e:?}"))?;
            if json {
                let items = cases.iter().map(CaseView::from).collect();
                println!("{}", serde_json::to_string_pretty(&CaseList { items })?);
            } else {
                for case in &cases {
                    println!("{}", line(case));
                }
            }
        }
        CasesCommand::Show { id, json } => {
            let case = flow.case(&id).await.map_err(|_| format!("no case {id}"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&CaseView::from(&case))?);
            } else {
                let view = CaseView::from(&case);
                println!("{}", line(&case));
                println!(
                    "  report {}  authentication {}",
                    view.report_id, view.authentication_id
                );
                println!(
                    "  purchased at {}  browser {}",
                    view.purchased_at, view.browser
                );
                println!(
                    "  method {}  status {}  reason {}  risk {}",
                    view.method
                        .map_or("-".to_owned(), |m| format!("{m:?}").to_lowercase()),
                    view.status.map_or("-".to_owned(), |s| format!("{s:?}")),
                    view.trans_status_reason.as_deref().unwrap_or("-"),
                    view.reasons.join(",")
                );
                println!("  note {}", view.note.as_deref().unwrap_or("-"));
            }
        }
        CasesCommand::Move {
            id,
            state,
            note,
            json,
        } => {
            let moved = flow
                .move_case(&id, state, note.as_deref())
                .await
                .map_err(|error| refusal(&id, error))?;
            if json {
                let view = MovedView {
                    case: CaseView::from(&moved.case),
                    previous_state: moved.previous.into(),
                };
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                println!("{id} {} → {}", moved.previous, moved.case.state);
            }
        }
    }
    Ok(())
}

/// Why a move was refused, as the command's error.
fn refusal(id: &CaseId, error: FlowError) -> String {
    match error {
        FlowError::UnknownCase => format!("no case {id}"),
        FlowError::CaseState { from, to } => {
            format!("case {id} is {from} and cannot move to {to}; nothing changed")
        }
        FlowError::InvalidCaseNote => {
            "the note must be at most 2000 characters, without control characters but line breaks"
                .to_owned()
        }
        other => format!("{other:?}"),
    }
}

/// One case on one line: id, state, card, merchant, amount, when reported.
fn line(case: &ProtectionCase) -> String {
    format!(
        "{}  {}  cardholder {}  merchant {} ({})  {}  reported at {}",
        case.id,
        case.state,
        case.cardholder_id,
        case.merchant_id,
        case.merchant_name,
        format_amount(case.amount, case.currency),
        case.created_at
    )
}
