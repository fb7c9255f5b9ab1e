//! Each rule on both sides of its threshold; the expected reasons are written out by hand.

use super::*;

fn reasons(input: &RiskInput) -> Vec<(u32, String)> {
    assess(input)
        .factors
        .into_iter()
        .map(|f| (f.points, f.reason))
        .collect()
}

fn one(points: u32, reason: &str) -> Vec<(u32, String)> {
    vec![(points, reason.to_owned())]
}

#[test]
fn nothing_to_say_is_low() {
    let risk = assess(&RiskInput::default());
    assert_eq!(
        risk,
        Risk {
            level: RiskLevel::Low,
            score: 0,
            factors: vec![]
        }
    );
}

#[test]
fn general_average_below_8_then_below_10() {
    let at = |h| RiskInput {
        general: Some(h),
        ..RiskInput::default()
    };
    assert_eq!(reasons(&at(799)), one(2, "moyenne générale 7,99 < 8"));
    assert_eq!(reasons(&at(800)), one(1, "moyenne générale 8,00 < 10"));
    assert_eq!(reasons(&at(999)), one(1, "moyenne générale 9,99 < 10"));
    assert_eq!(reasons(&at(1000)), vec![]);
    assert_eq!(reasons(&at(0)), one(2, "moyenne générale 0,00 < 8"));
}

#[test]
fn a_drop_of_two_points_since_the_previous_period() {
    let drop = |previous, general| RiskInput {
        general: Some(general),
        previous_general: Some(previous),
        ..RiskInput::default()
    };
    assert_eq!(
        reasons(&drop(1250, 1050)),
        one(
            1,
            "baisse de 2,00 points depuis la période précédente (12,50 → 10,50)"
        )
    );
    assert_eq!(reasons(&drop(1249, 1050)), vec![]);
    // A rise is no drop.
    assert_eq!(reasons(&drop(1050, 1500)), vec![]);
    // Both factors: 9,50 is below 10, and 3,25 points down from 12,75.
    assert_eq!(
        reasons(&drop(1275, 950)),
        vec![
            (1, "moyenne générale 9,50 < 10".to_owned()),
            (
                1,
                "baisse de 3,25 points depuis la période précédente (12,75 → 9,50)".to_owned()
            ),
        ]
    );
    // No average this period: nothing to compare.
    let no_general = RiskInput {
        previous_general: Some(1500),
        ..RiskInput::default()
    };
    assert_eq!(reasons(&no_general), vec![]);
}

#[test]
fn three_subjects_below_8() {
    let subjects = |averages: &[i64]| RiskInput {
        subject_averages: averages.to_vec(),
        ..RiskInput::default()
    };
    assert_eq!(
        reasons(&subjects(&[799, 500, 0, 1800])),
        one(1, "3 matières sous 8/20")
    );
    assert_eq!(reasons(&subjects(&[799, 500, 800, 1800])), vec![]);
    assert_eq!(
        reasons(&subjects(&[100, 200, 300, 400])),
        one(1, "4 matières sous 8/20")
    );
}

#[test]
fn unjustified_half_days_2_then_4() {
    let absent = |n| RiskInput {
        half_days_unjustified: n,
        ..RiskInput::default()
    };
    assert_eq!(reasons(&absent(1)), vec![]);
    assert_eq!(
        reasons(&absent(2)),
        one(1, "2 demi-journées d'absence non justifiées (seuil 2)")
    );
    assert_eq!(
        reasons(&absent(3)),
        one(1, "3 demi-journées d'absence non justifiées (seuil 2)")
    );
    assert_eq!(
        reasons(&absent(4)),
        one(2, "4 demi-journées d'absence non justifiées (seuil 4)")
    );
}

#[test]
fn five_latenesses() {
    let late = |n| RiskInput {
        latenesses: n,
        ..RiskInput::default()
    };
    assert_eq!(reasons(&late(4)), vec![]);
    assert_eq!(reasons(&late(5)), one(1, "5 retards (seuil 5)"));
}

#[test]
fn missing_homework_share_then_count() {
    let homework = |on_time, late, missing| RiskInput {
        homework_on_time: on_time,
        homework_late: late,
        homework_missing: missing,
        ..RiskInput::default()
    };
    // 3 of 10 is 30 %: 2 points.
    assert_eq!(
        reasons(&homework(5, 2, 3)),
        one(2, "3 devoirs non rendus sur 10 (30 % ou plus)")
    );
    // 3 of 11 is 27 %: only the count, 1 point.
    assert_eq!(reasons(&homework(6, 2, 3)), one(1, "3 devoirs non rendus"));
    // Fewer than 3 due: the share does not count, 2 missing is 1 point.
    assert_eq!(reasons(&homework(0, 0, 2)), one(1, "2 devoirs non rendus"));
    // 1 of 3 is 33 %: 2 points.
    assert_eq!(
        reasons(&homework(2, 0, 1)),
        one(2, "1 devoirs non rendus sur 3 (30 % ou plus)")
    );
    // 1 of 4 is 25 %, and 1 is fewer than 2: nothing.
    assert_eq!(reasons(&homework(2, 1, 1)), vec![]);
}

#[test]
fn no_qcm_attempt_against_the_class_median() {
    let qcm = |mine, class: &[u32]| RiskInput {
        qcm_attempts: mine,
        class_attempts: class.to_vec(),
        ..RiskInput::default()
    };
    // Median of 0, 1, 2 is 1.
    assert_eq!(
        reasons(&qcm(0, &[0, 1, 2])),
        one(1, "aucune tentative de QCM (médiane de la classe : 1,0)")
    );
    // Median of 0, 0, 1 is 0.
    assert_eq!(reasons(&qcm(0, &[0, 0, 1])), vec![]);
    // Median of 0 and 1 is 0,5, below 1.
    assert_eq!(reasons(&qcm(0, &[0, 1])), vec![]);
    // Median of 0, 0, 2, 3 is (0 + 2) / 2 = 1.
    assert_eq!(
        reasons(&qcm(0, &[3, 0, 2, 0])),
        one(1, "aucune tentative de QCM (médiane de la classe : 1,0)")
    );
    // Median of 0, 1, 2, 5 is 1,5.
    assert_eq!(
        reasons(&qcm(0, &[5, 0, 2, 1])),
        one(1, "aucune tentative de QCM (médiane de la classe : 1,5)")
    );
    // One attempt is not none.
    assert_eq!(reasons(&qcm(1, &[1, 3, 4])), vec![]);
    assert_eq!(reasons(&qcm(0, &[])), vec![]);
}

#[test]
fn two_socle_components_insufficient() {
    let socle = |n| RiskInput {
        competencies_insufficient: n,
        ..RiskInput::default()
    };
    assert_eq!(reasons(&socle(1)), vec![]);
    assert_eq!(
        reasons(&socle(2)),
        one(1, "2 composantes du socle en maîtrise insuffisante")
    );
}

#[test]
fn levels_from_the_score() {
    assert_eq!(RiskLevel::of(0), RiskLevel::Low);
    assert_eq!(RiskLevel::of(1), RiskLevel::Low);
    assert_eq!(RiskLevel::of(2), RiskLevel::Watch);
    assert_eq!(RiskLevel::of(3), RiskLevel::Watch);
    assert_eq!(RiskLevel::of(4), RiskLevel::High);
    assert_eq!(RiskLevel::of(9), RiskLevel::High);
    assert_eq!(
        [RiskLevel::Low, RiskLevel::Watch, RiskLevel::High].map(RiskLevel::label),
        ["faible", "à surveiller", "élevé"]
    );
}

#[test]
fn factors_add_up_in_rule_order() {
    // 7,50 (2) + 4 half-days (2) + 5 latenesses (1) + no QCM against a median of 2 (1)
    // = 6 points: high.
    let input = RiskInput {
        general: Some(750),
        half_days_unjustified: 4,
        latenesses: 5,
        qcm_attempts: 0,
        class_attempts: vec![0, 2, 2, 3],
        ..RiskInput::default()
    };
    let risk = assess(&input);
    assert_eq!(risk.score, 6);
    assert_eq!(risk.level, RiskLevel::High);
    assert_eq!(
        risk.factors
            .iter()
            .map(|f| f.reason.as_str())
            .collect::<Vec<_>>(),
        [
            "moyenne générale 7,50 < 8",
            "4 demi-journées d'absence non justifiées (seuil 4)",
            "5 retards (seuil 5)",
            "aucune tentative de QCM (médiane de la classe : 2,0)",
        ]
    );
    // 2 half-days (1) + 2 missing homework (1) = 2: to watch.
    let watch = RiskInput {
        half_days_unjustified: 2,
        homework_missing: 2,
        ..RiskInput::default()
    };
    assert_eq!(assess(&watch).level, RiskLevel::Watch);
    assert_eq!(assess(&watch).score, 2);
}
