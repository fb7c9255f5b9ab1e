//! Subscriptions (graphql-transport-ws). Each follows the projections' change notices and
//! recomputes only what a notice touches.
//!
//! The live board is pushed when an event changes it and also when time alone changes it
//! (a pupil turning STALLED after five minutes without progress): the board says when its
//! next such change is due (`next_change`), and the stream sleeps until then or until the
//! next notice, whichever comes first. A board is pushed only when it differs from the last
//! one pushed (the ticking "seconds since progress" alone does not count).
//!
//! Scope is checked when a subscription starts and again for every event it would push,
//! on the read models of that event: a teacher whose assignment ends, or a guardian
//! unlinked, stops receiving at once (the stream ends).

use crate::context::{services, Services};
use crate::errors::parse_id;
use crate::identity::{identity, Identity};
use crate::schema::query::{AssessmentView, LiveBoardView, PupilRef};
use crate::schema::types::GradeMark;
use crate::scope::Scope;
use async_graphql::{Context, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use futures::stream::{self, Stream};
use futures::StreamExt as _;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use suivi_domain::ids::*;
use suivi_domain::values::Grade;
use suivi_projections::live::LiveBoard;
use suivi_projections::{Applied, ReadModels};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

#[derive(Default)]
pub struct SubscriptionRoot;

/// Why a subscription loop woke up.
enum Wake {
    Notice(Applied),
    /// Notices were missed: recompute.
    Lagged,
    Timer,
    Stop,
}

async fn next_wake(
    changes: &mut broadcast::Receiver<Applied>,
    shutdown: &mut watch::Receiver<bool>,
    timer: Option<DateTime<Utc>>,
) -> Wake {
    if *shutdown.borrow() {
        return Wake::Stop;
    }
    let sleep = async {
        match timer {
            // A few milliseconds past the instant, so that the status has flipped.
            Some(at) => {
                let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                tokio::time::sleep(wait + Duration::from_millis(5)).await
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = shutdown.wait_for(|stop| *stop) => Wake::Stop,
        notice = changes.recv() => match notice {
            Ok(applied) => Wake::Notice(applied),
            Err(RecvError::Lagged(_)) => Wake::Lagged,
            Err(RecvError::Closed) => Wake::Stop,
        },
        _ = sleep => Wake::Timer,
    }
}

/// The board without what changes every second by itself.
fn signature(board: &LiveBoard) -> LiveBoard {
    let mut sig = board.clone();
    sig.now = DateTime::<Utc>::UNIX_EPOCH;
    for row in &mut sig.rows {
        if let Some(p) = row.parcours.as_mut() {
            p.seconds_since_progress = None;
        }
    }
    sig
}

struct BoardFeed {
    services: Arc<Services>,
    identity: Identity,
    session: SessionId,
    class: ClassId,
    changes: broadcast::Receiver<Applied>,
    shutdown: watch::Receiver<bool>,
    first: Option<LiveBoardView>,
    last: Option<LiveBoard>,
    timer: Option<DateTime<Utc>>,
}

/// The last item of a subscription whose identity no longer reaches what it follows: the
/// socket closes with 4403 and this reason (see `ws`).
fn scope_lost(what: &str) -> async_graphql::Error {
    crate::errors::coded(
        crate::errors::SCOPE_LOST,
        format!("{what} is no longer within your scope"),
    )
}

fn live_board_stream(feed: BoardFeed) -> impl Stream<Item = Result<LiveBoardView>> {
    stream::unfold(Some(feed), |feed| async move {
        let mut feed = feed?;
        if let Some(first) = feed.first.take() {
            feed.timer = first.board.next_change;
            feed.last = Some(signature(&first.board));
            return Some((Ok(first), Some(feed)));
        }
        loop {
            let relevant = match next_wake(&mut feed.changes, &mut feed.shutdown, feed.timer).await
            {
                Wake::Stop => return None,
                Wake::Notice(applied) => applied.reference || applied.touches_class(feed.class),
                Wake::Lagged | Wake::Timer => true,
            };
            if !relevant {
                continue;
            }
            // Out of scope now (or gone): the stream ends with the reason.
            let Ok(board) =
                LiveBoardView::compute(&feed.services, &feed.identity, feed.session, None)
            else {
                return Some((Err(scope_lost("this session's live board")), None));
            };
            feed.timer = board.board.next_change;
            let sig = signature(&board.board);
            if feed.last.as_ref() != Some(&sig) {
                feed.last = Some(sig);
                return Some((Ok(board), Some(feed)));
            }
        }
    })
}

/// A grade recorded or corrected for a pupil.
pub struct GradeChange {
    models: Arc<ReadModels>,
    identity: Identity,
    assessment_id: AssessmentId,
    pupil_id: PupilId,
    grade: Grade,
    corrected: bool,
    position: u64,
}

#[Object]
impl GradeChange {
    /// The whole assessment (every pupil's grade): its subject's teachers and the class's
    /// professeur principal (as the `assessment` query).
    async fn assessment(&self, ctx: &Context<'_>) -> Result<AssessmentView> {
        let services = services(ctx)?;
        let (live, scope) = services.scope(&self.identity);
        scope.assessment(&live, self.assessment_id)?;
        Ok(AssessmentView::new(self.models.clone(), self.assessment_id))
    }
    /// The assessment's title, subject and date, which the pupil's own file shows too.
    async fn assessment_title(&self) -> Option<String> {
        self.models
            .assessment(self.assessment_id)
            .map(|a| a.title.clone())
    }
    async fn pupil(&self) -> PupilRef {
        PupilRef {
            models: self.models.clone(),
            pupil_id: self.pupil_id,
        }
    }
    /// "12.5" on the assessment's scale; null for a mark.
    async fn score(&self) -> Option<String> {
        match self.grade {
            Grade::Score(h) => Some(h.to_string()),
            _ => None,
        }
    }
    async fn mark(&self) -> Option<GradeMark> {
        match self.grade {
            Grade::Score(_) => None,
            Grade::Absent => Some(GradeMark::Abs),
            Grade::Exempted => Some(GradeMark::Disp),
            Grade::NotHandedIn => Some(GradeMark::Nr),
        }
    }
    /// True when this replaces an earlier grade.
    async fn corrected(&self) -> bool {
        self.corrected
    }
    /// The global position the read models had reached when the change was seen.
    async fn position(&self) -> u64 {
        self.position
    }
}

type GradeBook = HashMap<AssessmentId, (Grade, u16)>;

/// The pupil's current grade on every assessment of every class they have been in.
fn grade_book(models: &ReadModels, pupil: PupilId) -> GradeBook {
    let mut book = GradeBook::new();
    let Some(info) = models.reference().pupil(pupil) else {
        return book;
    };
    let mut classes: Vec<ClassId> = info.enrolments.iter().map(|e| e.class_id).collect();
    classes.sort();
    classes.dedup();
    for class in classes {
        for a in models.assessments_of(class, None) {
            if let Some(entry) = a.grades.iter().find(|g| g.pupil_id == pupil) {
                book.insert(a.assessment_id, (entry.grade, entry.corrections));
            }
        }
    }
    book
}

struct GradeFeed {
    services: Arc<Services>,
    identity: Identity,
    pupil: PupilId,
    changes: broadcast::Receiver<Applied>,
    shutdown: watch::Receiver<bool>,
    book: GradeBook,
    queue: VecDeque<GradeChange>,
}

/// Whether `applied` touched a class the pupil is or was enrolled in.
fn in_a_touched_class(services: &Services, pupil: PupilId, applied: &Applied) -> bool {
    services
        .snapshot()
        .reference()
        .pupil(pupil)
        .is_some_and(|info| {
            info.enrolments
                .iter()
                .any(|e| applied.touches_class(e.class_id))
        })
}

fn grade_stream(feed: GradeFeed) -> impl Stream<Item = Result<GradeChange>> {
    stream::unfold(Some(feed), |feed| async move {
        let mut feed = feed?;
        loop {
            if let Some(change) = feed.queue.pop_front() {
                return Some((Ok(change), Some(feed)));
            }
            match next_wake(&mut feed.changes, &mut feed.shutdown, None).await {
                Wake::Stop => return None,
                // A grade event touches the pupil; publishing withheld results touches
                // only the class, and may show the family grades it had not seen.
                Wake::Notice(applied)
                    if !applied.touches_pupil(feed.pupil)
                        && !in_a_touched_class(&feed.services, feed.pupil, &applied) =>
                {
                    continue
                }
                Wake::Notice(_) | Wake::Lagged | Wake::Timer => {}
            }
            let models = feed.services.snapshot();
            let scope = Scope::of(&feed.identity, &models);
            if !scope.sees_pupil(&models, feed.pupil) {
                return Some((Err(scope_lost("this pupil's file")), None));
            }
            // A teacher's book holds the subjects they teach only (as their pupil view).
            let models = scope.visible(models.clone(), &models);
            let book = grade_book(&models, feed.pupil);
            let mut news: Vec<(AssessmentId, Grade, bool)> = book
                .iter()
                .filter(|(id, now)| feed.book.get(id) != Some(now))
                .map(|(id, (grade, _))| (*id, *grade, feed.book.contains_key(id)))
                .collect();
            news.sort_by_key(|(id, _, _)| *id);
            for (assessment_id, grade, corrected) in news {
                feed.queue.push_back(GradeChange {
                    models: models.clone(),
                    identity: feed.identity.clone(),
                    assessment_id,
                    pupil_id: feed.pupil,
                    grade,
                    corrected,
                    position: models.position(),
                });
            }
            feed.book = book;
        }
    })
}

/// A family's children's grade books, as staff see them and as the family does: what
/// `changes` compares to tell a change the family can see from a grade it may not see yet.
#[derive(Default)]
struct FamilyBooks(HashMap<PupilId, (GradeBook, GradeBook)>);

impl FamilyBooks {
    fn books(scope: &Scope, models: &Arc<ReadModels>, pupil: PupilId) -> (GradeBook, GradeBook) {
        let visible = scope.visible(models.clone(), models);
        (grade_book(models, pupil), grade_book(&visible, pupil))
    }

    fn of(scope: &Scope, models: &Arc<ReadModels>) -> FamilyBooks {
        let pupils = scope.family().into_iter().flatten();
        FamilyBooks(
            pupils
                .map(|p| (*p, FamilyBooks::books(scope, models, *p)))
                .collect(),
        )
    }

    /// The family's children the batch `applied` changed as the family sees them: a
    /// grade they can see (a publication, an assessment fully graded) or anything but a
    /// grade (the raw book unchanged: an absence, a deposit, an answer).
    fn news(&mut self, scope: &Scope, models: &Arc<ReadModels>, applied: &Applied) -> Vec<PupilId> {
        let mut news = Vec::new();
        for pupil in scope.family().into_iter().flatten() {
            let touched = applied.touches_pupil(*pupil)
                || models.reference().pupil(*pupil).is_some_and(|info| {
                    info.enrolments
                        .iter()
                        .any(|e| applied.touches_class(e.class_id))
                });
            if !touched {
                continue;
            }
            let (raw, visible) = FamilyBooks::books(scope, models, *pupil);
            let (last_raw, last_visible) = self.0.entry(*pupil).or_default();
            let seen = visible != *last_visible;
            let not_grades = raw == *last_raw && applied.touches_pupil(*pupil);
            if seen || not_grades {
                news.push(*pupil);
            }
            *last_raw = raw;
            *last_visible = visible;
        }
        news
    }
}

/// "Applied up to `position`": what a batch of events touched.
#[derive(SimpleObject)]
pub struct ChangeNotice {
    pub position: u64,
    pub reference: bool,
    pub class_ids: Vec<ID>,
    pub pupil_ids: Vec<ID>,
}

/// One event of the log, without its content: what an administrator's feed carries.
#[derive(SimpleObject)]
pub struct EventNotice {
    pub position: u64,
    pub event_id: ID,
    pub event_type: String,
    pub stream: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it: `role:id`, `importer:name` or `system:name`.
    pub actor: String,
}

#[Subscription]
impl SubscriptionRoot {
    /// Every event of the school's log after position `after` (default: from the start),
    /// in order and each once: what the log holds first, then each new event as it is
    /// committed. Administrators only; contents are left out (read them through the
    /// dashboards or `exportPupil`).
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 0)] after: u64,
    ) -> Result<impl Stream<Item = EventNotice>> {
        let identity = identity(ctx)?.clone();
        if identity.role != suivi_domain::Role::Admin {
            return Err(crate::errors::coded(
                crate::errors::FORBIDDEN,
                format!(
                    "only an administrator follows the whole log; a {} may not",
                    identity.role.as_str()
                ),
            ));
        }
        let services = services(ctx)?.clone();
        let mut shutdown = services.shutdown.clone();
        let school = identity.school_id;
        let feed = suivi_store::subscribe(services.store().clone(), after);
        let stop = async move {
            while !*shutdown.borrow_and_update() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
        };
        Ok(feed.take_until(Box::pin(stop)).filter_map(move |item| {
            let notice = match item {
                Ok(event) if event.school_id == school => Some(EventNotice {
                    position: event.global_position,
                    event_id: ID(event.event_id.to_string()),
                    event_type: event.event_type,
                    stream: event.stream.to_string(),
                    occurred_at: event.occurred_at,
                    recorded_at: event.recorded_at,
                    actor: event.actor.to_string(),
                }),
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(error = %error, "the events feed ended");
                    None
                }
            };
            futures::future::ready(notice)
        }))
    }

    /// The live board of a class session: pushed at once, then whenever an event or the
    /// passing of time changes it.
    async fn live_board(
        &self,
        ctx: &Context<'_>,
        session_id: ID,
    ) -> Result<impl Stream<Item = Result<LiveBoardView>>> {
        let session: SessionId = parse_id("sessionId", &session_id)?;
        let identity = identity(ctx)?.clone();
        let services = services(ctx)?.clone();
        let changes = services.projections.changes();
        let first = LiveBoardView::compute(&services, &identity, session, None)?;
        Ok(live_board_stream(BoardFeed {
            class: first.board.session.class_id,
            shutdown: services.shutdown.clone(),
            services,
            identity,
            session,
            changes,
            first: Some(first),
            last: None,
            timer: None,
        }))
    }

    /// Grades recorded or corrected for a pupil from now on.
    async fn grade_recorded(
        &self,
        ctx: &Context<'_>,
        pupil_id: ID,
    ) -> Result<impl Stream<Item = Result<GradeChange>>> {
        let pupil: PupilId = parse_id("pupilId", &pupil_id)?;
        let identity = identity(ctx)?.clone();
        let services = services(ctx)?.clone();
        let changes = services.projections.changes();
        let models = services.pupil_view(&identity, pupil, None).await?;
        Ok(grade_stream(GradeFeed {
            book: grade_book(&models, pupil),
            shutdown: services.shutdown.clone(),
            services,
            identity,
            pupil,
            changes,
            queue: VecDeque::new(),
        }))
    }

    /// Every batch the projections fold that touches the identity's scope: positions and
    /// the classes and pupils within reach it touched (the others are left out, and a
    /// batch touching none of them is not pushed).
    async fn changes(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = ChangeNotice>> {
        let identity = identity(ctx)?.clone();
        let services = services(ctx)?.clone();
        let changes = services.projections.changes();
        let shutdown = services.shutdown.clone();
        let books = {
            let (models, scope) = services.scope(&identity);
            FamilyBooks::of(&scope, &models)
        };
        Ok(stream::unfold(
            (changes, shutdown, services, identity, books),
            |(mut changes, mut shutdown, services, identity, mut books)| async move {
                loop {
                    match next_wake(&mut changes, &mut shutdown, None).await {
                        Wake::Notice(a) => {
                            let (models, scope) = services.scope(&identity);
                            let class_ids: Vec<ID> = a
                                .classes
                                .iter()
                                .filter(|c| scope.sees_class(&models, **c))
                                .map(|c| ID(c.to_string()))
                                .collect();
                            let pupil_ids: Vec<ID> = match scope.family() {
                                // A family hears of a change it can see, not of a grade
                                // it may not see yet (withheld, or not published).
                                Some(_) => books.news(&scope, &models, &a),
                                None => a
                                    .pupils
                                    .iter()
                                    .filter(|p| scope.sees_pupil(&models, **p))
                                    .copied()
                                    .collect(),
                            }
                            .into_iter()
                            .map(|p| ID(p.to_string()))
                            .collect();
                            // Reference changes are the school's; an administrator hears of
                            // them even when no class or pupil is named.
                            let reference = a.reference && scope.reads_all();
                            if class_ids.is_empty() && pupil_ids.is_empty() && !reference {
                                continue;
                            }
                            let notice = ChangeNotice {
                                position: a.position,
                                // The school's reference data is an administrator's to hear
                                // of: others learn nothing of a pupil registered elsewhere.
                                reference,
                                class_ids,
                                pupil_ids,
                            };
                            return Some((notice, (changes, shutdown, services, identity, books)));
                        }
                        Wake::Lagged | Wake::Timer => continue,
                        Wake::Stop => return None,
                    }
                }
            },
        ))
    }
}
