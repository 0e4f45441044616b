//! `score --parties`: the party store carries histories across batches,
//! one run at a time, and a failed run leaves it as it was.

use sentinel::batch::Batch;
use sentinel::features;
use sentinel::history::{self, HistFeatures};
use sentinel::keys::RowKeys;
use sentinel::model::Model;
use sentinel::reader::{Input, Reader};
use sentinel::store::PartyStore;
use sentinel::tables::Tables;

use crate::util::{fixture, read_csv, Workdir};

/// The fixture's test world's busiest month, written whole and as one file
/// per day (in date order); returns the day files.
fn month_and_days(wd: &Workdir) -> Vec<String> {
    let f = fixture();
    let (header, rows) = read_csv(&f.test);
    let d = header.iter().position(|h| h == "export_date").unwrap();
    let mut months: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in &rows {
        *months.entry(&r[d][..7]).or_default() += 1;
    }
    let month = months
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(m, _)| m.to_string())
        .unwrap();
    let of_month: Vec<&Vec<String>> = rows.iter().filter(|r| r[d].starts_with(&month)).collect();
    let write = |name: &str, rows: &[&Vec<String>]| {
        let mut w = csv::Writer::from_path(wd.path(name)).unwrap();
        w.write_record(&header).unwrap();
        for r in rows {
            w.write_record(r.iter()).unwrap();
        }
        w.flush().unwrap();
    };
    write("month.csv", &of_month);
    let mut days: Vec<&str> = of_month.iter().map(|r| r[d].as_str()).collect();
    days.sort();
    days.dedup();
    assert!(days.len() >= 20, "a month of daily batches: {}", days.len());
    days.iter()
        .map(|day| {
            let name = format!("day-{day}.csv");
            let rows: Vec<&Vec<String>> = of_month.iter().copied().filter(|r| r[d] == *day).collect();
            write(&name, &rows);
            name
        })
        .collect()
}

fn read(path: &std::path::Path) -> Batch {
    let mut r = Reader::open(&[Input::Path(path.to_path_buf())], None, None).unwrap();
    r.read_all().unwrap()
}

fn keys_of(model: &Model, b: &Batch) -> RowKeys {
    let d = features::declared(b, &model.parts.text);
    let a = features::anomaly(&d, &model.parts.stats);
    RowKeys::from_batch(b, &d.category, &d.hs6, &a)
}

/// The history figures that come from earlier lines (the run-level facts,
/// ranks and counts over the whole run, are relative to the batch by design).
fn prior(h: &HistFeatures) -> Vec<Vec<u32>> {
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    vec![
        bits(&h.exporter_age),
        bits(&h.exporter_lines),
        bits(&h.exporter_cat_share),
        h.exporter_mix.iter().map(|x| u32::from(*x)).collect(),
        bits(&h.exporter_anomaly),
        bits(&h.address_exporters),
        bits(&h.consignee_lines),
        bits(&h.consignee_age),
        bits(&h.consignee_anomaly),
    ]
}

fn store_rows(path: &std::path::Path) -> Vec<(String, String, Vec<u8>)> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut q = c
        .prepare("SELECT kind, key, hist FROM parties ORDER BY kind, key")
        .unwrap();
    q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_month_as_daily_batches_with_a_store_gives_the_histories_of_one_batch() {
    let f = fixture();
    let wd = Workdir::new();
    let days = month_and_days(&wd);
    let model_dir = f.model.to_str().unwrap();
    // Through the command line: the store after the month's days, one run
    // each in date order, is the store after the month as one run.
    let run = wd.run(&[
        "score",
        "month.csv",
        "--model",
        model_dir,
        "--parties",
        "month.sqlite",
        "--out",
        "m.csv",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for day in &days {
        let run = wd.run(&[
            "score",
            day,
            "--model",
            model_dir,
            "--parties",
            "days.sqlite",
            "--out",
            "d.csv",
            "-q",
        ]);
        assert_eq!(run.code, 0, "{day}: {}", run.stderr);
        assert!(
            !run.stderr
                .contains("warning: this batch holds lines dated before"),
            "{}",
            run.stderr
        );
    }
    let (m, d) = (
        store_rows(&wd.path("month.sqlite")),
        store_rows(&wd.path("days.sqlite")),
    );
    assert!(m.len() > 100, "{} parties", m.len());
    assert!(m == d, "the same parties with the same histories");

    // Every line's history figures, through the store's API.
    let model = Model::load(&f.model).unwrap();
    let n_cat = Tables::get().n_categories();
    let month = read(&wd.path("month.csv"));
    let (whole, _) = history::compute(&model.profiles, &mut keys_of(&model, &month), n_cat);
    let store = PartyStore::open(&wd.path("api.sqlite"), model.id()).unwrap();
    let mut daily: Vec<Vec<u32>> = vec![Vec::new(); prior(&whole).len()];
    let mut at_day: Vec<String> = Vec::new();
    for day in &days {
        let b = read(&wd.path(day));
        let mut k = keys_of(&model, &b);
        let h = store.histories(&model.profiles, &mut k, n_cat).unwrap();
        for (all, part) in daily.iter_mut().zip(prior(&h)) {
            all.extend(part);
        }
        at_day.extend((0..b.len).map(|i| b.cell_text(sentinel::schema::Col::ShipmentId, i)));
    }
    store.commit().unwrap();
    // The day files hold the month's lines grouped by day: put the whole
    // run's figures in the same order.
    let ids: Vec<String> = (0..month.len)
        .map(|i| month.cell_text(sentinel::schema::Col::ShipmentId, i))
        .collect();
    let pos: std::collections::HashMap<&str, usize> =
        ids.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let order: Vec<usize> = at_day.iter().map(|s| pos[s.as_str()]).collect();
    let whole = whole.select(&order, n_cat);
    let names = [
        "exporter_age",
        "exporter_lines",
        "exporter_cat_share",
        "exporter_mix",
        "exporter_anomaly",
        "address_exporters",
        "consignee_lines",
        "consignee_age",
        "consignee_anomaly",
    ];
    for ((name, a), b) in names.iter().zip(prior(&whole)).zip(&daily) {
        assert!(a == *b, "{name}: the same on every line");
    }
}

#[test]
fn one_run_at_a_time_and_a_failed_run_changes_nothing() {
    let f = fixture();
    let wd = Workdir::new();
    let model_dir = f.model.to_str().unwrap();
    let test = f.test.to_str().unwrap();
    let score = |extra: &[&str]| {
        let mut args = vec![
            "score",
            test,
            "--model",
            model_dir,
            "--parties",
            "p.sqlite",
            "--out",
            "s.csv",
            "-q",
        ];
        args.extend_from_slice(extra);
        wd.run(&args)
    };
    assert_eq!(score(&[]).code, 0);
    let before = store_rows(&wd.path("p.sqlite"));
    assert!(!before.is_empty());
    // A run holding the store: a second is refused, with why.
    let model = Model::load(&f.model).unwrap();
    let held = PartyStore::open(&wd.path("p.sqlite"), model.id()).unwrap();
    let run = score(&[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("another run is using this party store"),
        "{}",
        run.stderr
    );
    drop(held);
    // A run that fails after scoring (its summary cannot be written: the
    // path is a directory) leaves the store as it was.
    std::fs::create_dir(wd.path("dir")).unwrap();
    let run = score(&["--summary-json", "dir"]);
    assert_ne!(run.code, 0);
    assert!(
        store_rows(&wd.path("p.sqlite")) == before,
        "unchanged by the failed run"
    );
    // A run with `args` is refused, and says why.
    let refused = |args: &[&str], why: &str| {
        let run = wd.run(&[&["score", test], args, &["--out", "refused.csv", "-q"]].concat());
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains(why), "{}", run.stderr);
    };
    // Another model's run: the store is tied to its model.
    refused(&["--parties", "p.sqlite"], "was built with model");
    // A file that is not a party store, left alone.
    std::fs::write(wd.path("junk.sqlite"), b"not a database, just text\n").unwrap();
    refused(
        &["--model", model_dir, "--parties", "junk.sqlite"],
        "junk.sqlite: not a party store",
    );
    assert_eq!(
        std::fs::read(wd.path("junk.sqlite")).unwrap(),
        b"not a database, just text\n"
    );
    // Nor is another application's database given the store's tables.
    let other = rusqlite::Connection::open(wd.path("other.sqlite")).unwrap();
    other.execute_batch("CREATE TABLE decisions (id TEXT)").unwrap();
    drop(other);
    refused(
        &["--model", model_dir, "--parties", "other.sqlite"],
        "holds other tables: decisions",
    );
    // A second run on the store moves its parties' histories on.
    assert_eq!(score(&[]).code, 0);
    assert!(store_rows(&wd.path("p.sqlite")) != before);
}
