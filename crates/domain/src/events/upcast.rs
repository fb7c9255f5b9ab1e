//! Upcasters: older payload shapes upgraded to the current one on read.
//!
//! The real example: `GradeRecorded` v1 (the first importer's shape) stored
//! `{"score": 12.5}` in points as a float, or `{"score": null, "mark": "Abs"}`. Floats made
//! averages drift and the mark was a free string; v2 stores `grade`: hundredths as an
//! integer, or one of the codes `Abs`, `Disp`, `NR`.

use super::DecodeError;
use serde_json::{Map, Value};

pub(super) fn upcast(event_type: &str, version: u16, payload: &str) -> Result<String, DecodeError> {
    let fail = |reason: String| DecodeError::Payload {
        event_type: event_type.to_owned(),
        version,
        reason,
    };
    let mut object: Map<String, Value> =
        serde_json::from_str(payload).map_err(|e| fail(e.to_string()))?;
    match (event_type, version) {
        ("GradeRecorded", 1) => grade_recorded_v1_to_v2(&mut object).map_err(fail)?,
        _ => {
            return Err(DecodeError::UnknownVersion {
                event_type: event_type.to_owned(),
                version,
                current: super::Event::current_version(event_type).unwrap_or(version),
            })
        }
    }
    serde_json::to_string(&object).map_err(|e| fail(e.to_string()))
}

fn grade_recorded_v1_to_v2(object: &mut Map<String, Value>) -> Result<(), String> {
    let score = object.remove("score").unwrap_or(Value::Null);
    let mark = object.remove("mark");
    let grade = match (score, mark) {
        (Value::Number(n), _) => {
            let points = n
                .as_f64()
                .ok_or_else(|| format!("score {n} is not a number"))?;
            if !(0.0..=10_000.0).contains(&points) {
                return Err(format!("score {points} is out of range"));
            }
            // v1 floats were typed in with at most two decimals: round half away from zero.
            Value::from((points * 100.0).round() as u64)
        }
        (Value::Null, Some(Value::String(m))) => match m.as_str() {
            "Abs" | "absent" => Value::from("Abs"),
            "Disp" | "dispensé" | "exempted" => Value::from("Disp"),
            "NR" | "non rendu" => Value::from("NR"),
            other => return Err(format!("v1 mark {other:?} is not one of Abs, Disp, NR")),
        },
        _ => return Err("v1 grade has neither a score nor a mark".into()),
    };
    object.insert("grade".into(), grade);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::events::{Event, GradeRecorded};
    use crate::ids::*;
    use crate::values::{Grade, Hundredths};
    use uuid::Uuid;

    const A: &str = "00000000-0000-0000-0000-00000000000a";
    const P: &str = "00000000-0000-0000-0000-00000000000b";

    fn expected(grade: Grade) -> Event {
        Event::GradeRecorded(GradeRecorded {
            assessment_id: AssessmentId(Uuid::from_u128(0xa)),
            pupil_id: PupilId(Uuid::from_u128(0xb)),
            grade,
        })
    }

    #[test]
    fn grade_recorded_v1_float_score_is_read_as_hundredths() {
        let v1 = format!(r#"{{"assessment_id":"{A}","pupil_id":"{P}","score":12.35}}"#);
        assert_eq!(
            Event::decode("GradeRecorded", 1, &v1).unwrap(),
            expected(Grade::Score(Hundredths(1235)))
        );
    }

    #[test]
    fn grade_recorded_v1_mark_is_read_as_code() {
        let v1 =
            format!(r#"{{"assessment_id":"{A}","pupil_id":"{P}","score":null,"mark":"absent"}}"#);
        assert_eq!(
            Event::decode("GradeRecorded", 1, &v1).unwrap(),
            expected(Grade::Absent)
        );
        let bad =
            format!(r#"{{"assessment_id":"{A}","pupil_id":"{P}","score":null,"mark":"malade"}}"#);
        let err = Event::decode("GradeRecorded", 1, &bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"malade\""), "{err}");
    }
}
