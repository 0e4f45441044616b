//! `sentinel evaluate`: metrics at budgets, per scheme, calibration and the
//! likely-cargo confusion, as text and JSON.

use crate::util::{fixture, Workdir};

#[test]
fn evaluation_reports_budgets_schemes_and_baselines() {
    let wd = Workdir::new();
    let f = fixture();
    let run = wd.run(&[
        "evaluate",
        f.test.to_str().unwrap(),
        "--model",
        f.model.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(r["rows"], 20000);
    let m = &r["model"];
    let budgets: Vec<f64> = m["at_budget"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["budget_percent"].as_f64().unwrap())
        .collect();
    assert_eq!(budgets, [0.5, 1.0, 2.0, 5.0, 10.0]);
    for k in ["pr_auc", "roc_auc"] {
        let v = m[k].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{k} {v}");
    }
    assert!(
        m["pr_auc"].as_f64().unwrap() > r["isolation_forest"]["pr_auc"].as_f64().unwrap(),
        "the model beats the baseline"
    );
    let typ = m["recall_by_typology"].as_object().unwrap();
    assert!(typ.contains_key("nj_warehouse") && typ.contains_key("false_end_user"));
    assert_eq!(r["calibration"].as_array().unwrap().len(), 10);
    assert!(r["likely_accuracy"].as_f64().unwrap() > 0.5);
    let text = wd.run(&[
        "evaluate",
        f.test.to_str().unwrap(),
        "--model",
        f.model.to_str().unwrap(),
        "--no-baseline",
    ]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("top    1%") && text.stdout.contains("calibration"),
        "{}",
        text.stdout
    );
}
