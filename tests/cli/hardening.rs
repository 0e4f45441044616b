//! Hostile and degenerate input: any bytes in a cell never panic, rows in =
//! accepted + rejected for any mix of good and bad rows, and numeric edge
//! cases are scored or rejected, never crash.

use proptest::prelude::*;
use sentinel::in_memory;
use sentinel::model::embedded;
use sentinel::pipeline;
use sentinel::reader::Reader;

use crate::util::{read_csv, Workdir};

const HEADER: &str = "shipment_id,export_date,hs_code,value_usd,shipping_weight_kg,description,quantity,ultimate_consignee_country,usppi_name,brand\n";

/// Reads CSV bytes; returns (rows, accepted, rejected) and scores the accepted rows.
fn read_and_score(bytes: Vec<u8>) -> (u64, u64, u64) {
    // The header is always ours and valid: a file that does not open is a
    // failure, never a silent (0, 0, 0) that would satisfy every count.
    let mut r = Reader::from_csv_reader("prop.csv", Box::new(std::io::Cursor::new(bytes)), None, None)
        .expect("a file with a valid header opens");
    let b = r.read_all().expect("reading from memory does not fail");
    if b.len > 0 {
        let model = embedded::load().unwrap();
        let h = in_memory::histories(&model, &b);
        let ev = pipeline::evidence(&model.parts, &b, &h);
        let s = pipeline::score(&model.parts, &ev, pipeline::Scoring::Supervised);
        assert!(
            s.risk.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)),
            "risk in 0..1"
        );
        // The batch's own label-free tails (the model's own below 1,000 rows).
        let tails = model.parts.labelfree.for_run(&ev.frame);
        let lf = pipeline::score(&model.parts, &ev, pipeline::Scoring::LabelFree(&tails));
        assert!(lf.risk.iter().all(|v| v.is_finite()));
    }
    (r.stats.rows, r.stats.accepted, r.stats.rejected)
}

fn csv_field(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &c in bytes {
        if c == b'"' {
            out.push(b'"');
        }
        out.push(c);
    }
    out.push(b'"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn any_bytes_in_any_cell_never_panic(cells in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 10)) {
        let mut bytes = HEADER.as_bytes().to_vec();
        for (j, c) in cells.iter().enumerate() {
            if j > 0 {
                bytes.push(b',');
            }
            bytes.extend(csv_field(c));
        }
        bytes.push(b'\n');
        let (rows, acc, rej) = read_and_score(bytes);
        prop_assert_eq!(rows, acc + rej);
        prop_assert_eq!(rows, 1);
    }

    #[test]
    fn raw_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut all = HEADER.as_bytes().to_vec();
        all.extend(bytes);
        let (rows, acc, rej) = read_and_score(all);
        prop_assert_eq!(rows, acc + rej);
    }

    #[test]
    fn mixes_of_good_and_bad_rows_lose_nothing(kinds in proptest::collection::vec(0u8..8, 1..60)) {
        let mut text = HEADER.to_string();
        let mut good = 0u64;
        for (i, k) in kinds.iter().enumerate() {
            let id = format!("S{i}");
            let row = match k {
                0 => { good += 1; format!("{id},2025-01-02,8504400000,120.5,3.2,adapter,10,SG,Apex Inc,SANDKYAN") }
                1 => format!("{id},2025-02-30,8504400000,1,1,x,1,SG,a,b"),
                2 => format!("{id},2025-01-02,85044,1,1,x,1,SG,a,b"),
                3 => format!("{id},2025-01-02,8504400000,-1,1,x,1,SG,a,b"),
                4 => format!("{id},2025-01-02,8504400000,1,0,x,1,SG,a,b"),
                5 => format!("{id},2025-01-02"),
                6 => { good += 1; format!("{id},2025-01-02,8504400000,1e308,1e-300,\"=HYPERLINK(\"\"x\"\")\",-3,Mars,<script>,") }
                _ => ",2025-01-02,8504400000,1,1,x,1,SG,a,b".to_string(),
            };
            text.push_str(&row);
            text.push('\n');
        }
        let (rows, acc, rej) = read_and_score(text.into_bytes());
        prop_assert_eq!(rows, kinds.len() as u64);
        prop_assert_eq!(rows, acc + rej);
        prop_assert_eq!(acc, good);
    }
}

#[test]
fn numeric_edge_cases_are_scored_or_rejected() {
    let wd = Workdir::new();
    let rows = [
        ("Z0", "0", "1"),          // zero value: valid
        ("Z1", "5", "0"),          // zero weight: rejected
        ("Z2", "-5", "1"),         // negative value: rejected
        ("Z3", "NaN", "1"),        // NaN: rejected
        ("Z4", "inf", "1"),        // inf: rejected
        ("Z5", "1e308", "1e308"),  // huge but finite: scored
        ("Z6", "1e308", "1e-300"), // value per kg overflows to inf inside: scored
        ("Z7", "3", "-inf"),       // rejected
    ];
    let mut text = String::from(HEADER);
    for (id, v, w) in rows {
        text.push_str(&format!(
            "{id},2025-01-02,8504400000,{v},{w},adapter,2,SG,Apex,\n"
        ));
    }
    wd.write("edge.csv", text);
    let run = wd.run(&["score", "edge.csv", "--out", "o.csv", "--summary-json", "s.json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let (_, out) = read_csv(&wd.path("o.csv"));
    let ids: Vec<&str> = out.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["Z0", "Z5", "Z6"]);
    for r in &out {
        let risk: f64 = r[1].parse().unwrap();
        assert!((0.0..=1.0).contains(&risk), "{r:?}");
    }
    let (_, rej) = read_csv(&wd.path("o.csv.rejects.csv"));
    assert_eq!(rej.len(), 5);
}

#[test]
fn a_batch_of_one_row_and_identical_rows() {
    let wd = Workdir::new();
    wd.write(
        "one.csv",
        format!("{HEADER}A,2025-01-02,8473301180,250000,20,GPU module,8,HK,New Co,\n"),
    );
    let run = wd.run(&["score", "one.csv", "--out", "o.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (_, out) = read_csv(&wd.path("o.csv"));
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0][2], "true",
        "a batch of one flags its one row (at least one)"
    );
    let mut text = String::from(HEADER);
    for i in 0..50 {
        text.push_str(&format!(
            "S{i},2025-01-02,8504400000,100,5,adapter,10,SG,Same Inc,Same\n"
        ));
    }
    wd.write("same.csv", text);
    let run = wd.run(&["score", "same.csv", "--out", "o.csv", "--budget", "top:3"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (_, out) = read_csv(&wd.path("o.csv"));
    let flagged: Vec<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, r)| r[2] == "true")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(flagged.len(), 3);
}

#[test]
fn a_batch_where_every_row_is_rejected() {
    let wd = Workdir::new();
    wd.write(
        "bad.csv",
        format!("{HEADER}A,2025-02-30,8504400000,1,1,x,1,SG,a,\nB,2025-01-01,1,1,1,x,1,SG,a,\n"),
    );
    let run = wd.run(&["score", "bad.csv", "--out", "o.csv", "--summary-json", "s.json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let (header, out) = read_csv(&wd.path("o.csv"));
    assert_eq!(header[0], "shipment_id");
    assert!(out.is_empty());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("s.json")).unwrap()).unwrap();
    assert_eq!(s["rejected"], 2);
    assert_eq!(s["flagged"], 0);
}

#[test]
fn never_seen_codes_countries_and_parties_are_scored() {
    let wd = Workdir::new();
    wd.write(
        "new.csv",
        "shipment_id,export_date,hs_code,value_usd,shipping_weight_kg,description,quantity,ultimate_consignee_country,usppi_name,brand,quantity_unit\n\
         A,2031-12-31,0101210000,5000,400,live horses,2,AQ,Never Seen Ltd,Unheard,HEAD\n\
         B,1999-01-01,0000000000,1,1,,1,KP,Zz,,BARREL\n",
    );
    let run = wd.run(&["score", "new.csv", "--out", "o.csv", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (_, out) = read_csv(&wd.path("o.csv"));
    assert_eq!(out.len(), 2);
    // A code of the HS nomenclature that the tables do not list is general
    // goods; a code the nomenclature does not know is unknown.
    assert_eq!(out[0][5], "general_goods", "{out:?}");
    assert_eq!(out[1][5], "unknown", "{out:?}");
}

/// Gives `good` bytes, then fails like a disk or a pipe that breaks.
struct Breaks {
    good: std::io::Cursor<Vec<u8>>,
}

impl std::io::Read for Breaks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.good.read(buf)? {
            0 => Err(std::io::Error::other("the device went away")),
            n => Ok(n),
        }
    }
}

#[test]
fn a_read_error_mid_file_is_an_error_not_an_end() {
    // Enough rows for several validated rounds before the failure, and at
    // a round boundary too: the error must surface however the rounds fall.
    for rows in [10, 16_384, 40_000] {
        let mut text = String::from(HEADER);
        for i in 0..rows {
            text.push_str(&format!(
                "S{i},2025-01-02,847330,1000,2.5,adapter,1,SG,Acme,Acme\n"
            ));
        }
        let rd = Breaks {
            good: std::io::Cursor::new(text.into_bytes()),
        };
        let mut r = Reader::from_csv_reader("breaks.csv", Box::new(rd), None, None).unwrap();
        let err = r.read_all().expect_err("a read error is not the end of the file");
        // Named with the file and the line reached: the header and `rows`
        // complete lines were read, so the next line is rows + 2.
        let at = format!("breaks.csv: read error after line {}", rows + 2);
        assert!(format!("{err:#}").contains(&at), "{err:#}");
        assert!(format!("{err:#}").contains("the device went away"), "{err:#}");
    }
}
