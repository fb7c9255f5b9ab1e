//! Competencies: per pupil and component, the latest level, the history and the validations.
//!
//! *Latest* is the assessment with the latest `on` date, the later in the log among
//! assessments of the same day. Validations (`CompetencyValidated`) are listed apart and do
//! not change the latest assessed level.

use crate::model::{Map, ReadModels};
use chrono::NaiveDate;
use suivi_domain::events::Event;
use suivi_domain::ids::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CompetencyMark {
    pub level: u8,
    pub on: NaiveDate,
    pub validated: bool,
    pub teacher_id: Option<TeacherId>,
}

/// framework → component code → marks in log order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Competencies {
    by_framework: Map<FrameworkId, Map<String, Vec<CompetencyMark>>>,
}

impl Competencies {
    pub(crate) fn apply(&mut self, event: &Event) {
        let (framework, component, mark) = match event {
            Event::CompetencyAssessed(e) => (
                e.framework_id,
                &e.component,
                CompetencyMark {
                    level: e.level.0,
                    on: e.on,
                    validated: false,
                    teacher_id: e.teacher_id,
                },
            ),
            Event::CompetencyValidated(e) => (
                e.framework_id,
                &e.component,
                CompetencyMark {
                    level: e.level.0,
                    on: e.on,
                    validated: true,
                    teacher_id: None,
                },
            ),
            _ => return,
        };
        let components = self.by_framework.entry(framework).or_default();
        match components.get_mut(component.as_str()) {
            Some(marks) => marks.push(mark),
            None => {
                components.insert(component.clone(), vec![mark]);
            }
        }
    }

    pub(crate) fn marks(&self, framework: FrameworkId, component: &str) -> &[CompetencyMark] {
        self.by_framework
            .get(&framework)
            .and_then(|c| c.get(component))
            .map_or(&[], |m| m.as_slice())
    }
}

/// The latest assessed mark among `marks` (log order) dated on or before `until`.
pub fn latest_assessed(
    marks: &[CompetencyMark],
    until: Option<NaiveDate>,
) -> Option<CompetencyMark> {
    let mut latest: Option<CompetencyMark> = None;
    for m in marks
        .iter()
        .filter(|m| !m.validated && until.is_none_or(|u| m.on <= u))
    {
        if latest.is_none_or(|l| m.on >= l.on) {
            latest = Some(*m);
        }
    }
    latest
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ComponentView {
    pub framework_id: FrameworkId,
    pub component: String,
    pub label: Option<String>,
    pub latest: Option<CompetencyMark>,
    /// Assessments in log order.
    pub history: Vec<CompetencyMark>,
    /// Validations in log order.
    pub validations: Vec<CompetencyMark>,
}

impl ReadModels {
    /// The latest level a pupil was assessed at on a component, on or before `until`.
    pub fn competency_level(
        &self,
        pupil: PupilId,
        framework: FrameworkId,
        component: &str,
        until: Option<NaiveDate>,
    ) -> Option<u8> {
        let marks = self
            .pupil_model(pupil)?
            .competencies
            .marks(framework, component);
        latest_assessed(marks, until).map(|m| m.level)
    }

    /// Every component a pupil was assessed or validated on, framework by framework, in the
    /// framework's order of components.
    pub fn competencies(&self, pupil: PupilId) -> Vec<ComponentView> {
        let Some(model) = self.pupil_model(pupil) else {
            return Vec::new();
        };
        let mut frameworks: Vec<FrameworkId> =
            model.competencies.by_framework.keys().copied().collect();
        frameworks
            .sort_by_cached_key(|f| (self.reference.framework(*f).map(|x| x.name.clone()), *f));
        let mut views = Vec::new();
        for framework in frameworks {
            let info = self.reference.framework(framework);
            let position = |code: &str| {
                info.and_then(|i| i.components.iter().position(|c| c.code == code))
                    .unwrap_or(usize::MAX)
            };
            let Some(components) = model.competencies.by_framework.get(&framework) else {
                continue;
            };
            let mut codes: Vec<&String> = components.keys().collect();
            codes.sort_by_key(|c| (position(c), (*c).clone()));
            for code in codes {
                let marks = components.get(code).map_or(&[][..], |m| m.as_slice());
                views.push(ComponentView {
                    framework_id: framework,
                    component: code.clone(),
                    label: info
                        .and_then(|i| i.components.iter().find(|c| &c.code == code))
                        .map(|c| c.label.clone()),
                    latest: latest_assessed(marks, None),
                    history: marks.iter().filter(|m| !m.validated).copied().collect(),
                    validations: marks.iter().filter(|m| m.validated).copied().collect(),
                });
            }
        }
        views
    }
}
