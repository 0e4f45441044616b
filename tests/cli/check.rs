//! `sentinel check` on the malformed-input corpus (`tests/data/malformed`):
//! each file gives its clear message, exactly its rejects, or its emptied
//! cells; never a panic; rows in = accepted + rejected.

use crate::util::{data, read_csv, root, Workdir};

/// What one corpus file must produce.
struct Case {
    file: &'static str,
    code: i32,
    rows: u64,
    /// (line, column, reason_code) of every reject, in order.
    rejects: &'static [(u64, &'static str, &'static str)],
    /// (column, count) of emptied invalid cells.
    invalid: &'static [(&'static str, u64)],
    /// Must appear in stderr.
    message: &'static str,
}

const CASES: &[Case] = &[
    Case {
        file: "missing_core_column.csv",
        code: 2,
        rows: 0,
        rejects: &[],
        invalid: &[],
        message: "missing core column(s) value_usd; closest names present: `Value USD` for value_usd",
    },
    Case {
        file: "wrong_types.csv",
        code: 3,
        rows: 4,
        rejects: &[
            (2, "value_usd", "INVALID_CORE"),
            (4, "shipping_weight_kg", "INVALID_CORE"),
        ],
        invalid: &[("quantity", 1)],
        message: "wrong_types.csv:2: column value_usd: `abc` is not a finite number >= 0",
    },
    Case {
        file: "negative_weight.csv",
        code: 3,
        rows: 3,
        rejects: &[(2, "shipping_weight_kg", "INVALID_CORE")],
        invalid: &[],
        message: "`-3` is not a finite number > 0",
    },
    Case {
        file: "zero_weight.csv",
        code: 3,
        rows: 3,
        rejects: &[
            (2, "shipping_weight_kg", "INVALID_CORE"),
            (3, "shipping_weight_kg", "INVALID_CORE"),
        ],
        invalid: &[],
        message: "`0.0` is not a finite number > 0",
    },
    Case {
        file: "nan_inf_values.csv",
        code: 3,
        rows: 5,
        rejects: &[
            (2, "value_usd", "INVALID_CORE"),
            (3, "value_usd", "INVALID_CORE"),
            (4, "shipping_weight_kg", "INVALID_CORE"),
            (5, "value_usd", "INVALID_CORE"),
        ],
        invalid: &[],
        message: "`1e400` is not a finite number >= 0",
    },
    Case {
        file: "bad_dates.csv",
        code: 3,
        rows: 5,
        rejects: &[
            (2, "export_date", "INVALID_CORE"),
            (3, "export_date", "INVALID_CORE"),
            (4, "export_date", "MISSING_CORE"),
            (5, "export_date", "INVALID_CORE"),
        ],
        invalid: &[],
        message: "`2025-02-30` is not a real date in the form YYYY-MM-DD",
    },
    Case {
        file: "bad_country.csv",
        code: 0,
        rows: 4,
        rejects: &[],
        invalid: &[("ultimate_consignee_country", 3)],
        message: "ultimate_consignee_country 3",
    },
    Case {
        file: "bad_hs_code.csv",
        code: 3,
        rows: 5,
        rejects: &[
            (2, "hs_code", "INVALID_CORE"),
            (3, "hs_code", "INVALID_CORE"),
            (4, "hs_code", "INVALID_CORE"),
        ],
        invalid: &[],
        message: "`ABCDEF` is not 6 to 10 digits",
    },
    Case {
        file: "ragged_rows.csv",
        code: 3,
        rows: 4,
        rejects: &[(3, "", "RAGGED_ROW"), (4, "", "RAGGED_ROW")],
        invalid: &[],
        message: "the record has 13 fields but the header has 12",
    },
    Case {
        file: "broken_quoting.csv",
        code: 3,
        rows: 2,
        rejects: &[(3, "", "RAGGED_ROW")],
        invalid: &[],
        message: "spans lines 3-5; an unbalanced quote?",
    },
    Case {
        file: "empty.csv",
        code: 2,
        rows: 0,
        rejects: &[],
        invalid: &[],
        message: "the file is empty (a header row is required)",
    },
    Case {
        file: "header_only.csv",
        code: 0,
        rows: 0,
        rejects: &[],
        invalid: &[],
        message: "0 rows: 0 accepted, 0 rejected",
    },
    Case {
        file: "bom_crlf.csv",
        code: 0,
        rows: 3,
        rejects: &[],
        invalid: &[],
        message: "3 rows: 3 accepted",
    },
    Case {
        file: "duplicate_ids.csv",
        code: 3,
        rows: 4,
        rejects: &[(4, "shipment_id", "DUPLICATE_ID")],
        invalid: &[],
        message: "shipment_id `S1` was already used by an earlier row (the first is kept)",
    },
    Case {
        file: "empty_id.csv",
        code: 3,
        rows: 3,
        rejects: &[(2, "shipment_id", "EMPTY_ID"), (3, "shipment_id", "EMPTY_ID")],
        invalid: &[],
        message: "shipment_id is empty",
    },
    Case {
        file: "semicolon_delimiter.csv",
        code: 2,
        rows: 0,
        rejects: &[],
        invalid: &[],
        message: "separated by semicolons, but manifests must be comma separated",
    },
    Case {
        file: "quoted_newlines.csv",
        code: 3,
        rows: 3,
        rejects: &[(5, "value_usd", "INVALID_CORE")],
        invalid: &[],
        message: "quoted_newlines.csv:5: column value_usd",
    },
    Case {
        file: "bad_optional_cells.csv",
        code: 0,
        rows: 5,
        rejects: &[],
        invalid: &[("quantity", 3), ("transport_mode", 1)],
        message: "quantity 3, transport_mode 1",
    },
    Case {
        file: "core_empty_cells.csv",
        code: 3,
        rows: 4,
        rejects: &[
            (2, "value_usd", "MISSING_CORE"),
            (3, "shipping_weight_kg", "MISSING_CORE"),
            (4, "hs_code", "MISSING_CORE"),
        ],
        invalid: &[],
        message: "core column value_usd is empty",
    },
    Case {
        file: "extra_columns.csv",
        code: 0,
        rows: 3,
        rejects: &[],
        invalid: &[],
        message: "2 extra carried",
    },
    Case {
        file: "mixed_bad_and_good.csv",
        code: 3,
        rows: 8,
        rejects: &[
            (4, "shipping_weight_kg", "INVALID_CORE"),
            (6, "export_date", "INVALID_CORE"),
            (7, "shipment_id", "DUPLICATE_ID"),
        ],
        invalid: &[("ultimate_consignee_country", 1)],
        message: "8 rows: 5 accepted, 3 rejected",
    },
    Case {
        file: "binary_garbage.bin",
        code: 2,
        rows: 0,
        rejects: &[],
        invalid: &[],
        message: "does not look like UTF-8 CSV text",
    },
    Case {
        file: "non_utf8.csv",
        code: 3,
        rows: 4,
        rejects: &[(4, "shipment_id", "INVALID_CORE")],
        invalid: &[("description", 1)],
        message: "column shipment_id is not valid UTF-8",
    },
    Case {
        // A character cut in two by a delimiter: the record's bytes are
        // valid UTF-8 as a whole, the two cells are not.
        file: "split_utf8.csv",
        code: 0,
        rows: 3,
        rejects: &[],
        invalid: &[("description", 1), ("brand", 1)],
        message: "3 rows: 3 accepted",
    },
];

#[test]
fn malformed_corpus_gives_its_messages_rejects_and_emptied_cells() {
    assert!(CASES.len() >= 20);
    for case in CASES {
        let wd = Workdir::new();
        let input = data(&format!("malformed/{}", case.file));
        let run = wd.run(&[
            "check",
            input.to_str().unwrap(),
            "--rejects",
            "rejects.csv",
            "--json",
        ]);
        assert_eq!(
            run.code, case.code,
            "{}: exit code; stderr: {}",
            case.file, run.stderr
        );
        assert!(
            run.stderr.contains(case.message),
            "{}: stderr lacks `{}`: {}",
            case.file,
            case.message,
            run.stderr
        );
        if case.code == 2 {
            assert!(
                run.stdout.is_empty(),
                "{}: refused input prints no data",
                case.file
            );
            continue;
        }
        let stats: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON summary");
        let rows = stats["rows"].as_u64().unwrap();
        let accepted = stats["accepted"].as_u64().unwrap();
        let rejected = stats["rejected"].as_u64().unwrap();
        assert_eq!(rows, case.rows, "{}: rows", case.file);
        assert_eq!(
            rows,
            accepted + rejected,
            "{}: rows in = accepted + rejected",
            case.file
        );
        let (header, rej) = read_csv(&wd.path("rejects.csv"));
        assert_eq!(
            header,
            [
                "file",
                "line",
                "shipment_id",
                "column",
                "value",
                "reason_code",
                "reason"
            ]
        );
        let got: Vec<(u64, String, String)> = rej
            .iter()
            .map(|r| (r[1].parse().unwrap(), r[3].clone(), r[5].clone()))
            .collect();
        let want: Vec<(u64, String, String)> = case
            .rejects
            .iter()
            .map(|(l, c, k)| (*l, c.to_string(), k.to_string()))
            .collect();
        assert_eq!(got, want, "{}: rejects", case.file);
        assert_eq!(
            rejected as usize,
            rej.len(),
            "{}: every reject is in the file",
            case.file
        );
        for (col, n) in case.invalid {
            assert_eq!(
                stats["invalid_cells_by_column"][col].as_u64(),
                Some(*n),
                "{}: invalid {col}",
                case.file
            );
        }
        let invalid_total: u64 = stats["invalid_cells_by_column"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(
            invalid_total,
            case.invalid.iter().map(|x| x.1).sum::<u64>(),
            "{}: no other emptied cells",
            case.file
        );
    }
}

#[test]
fn a_megabyte_field_is_emptied_not_fatal() {
    let wd = Workdir::new();
    let big = "x".repeat(1 << 20);
    let text = format!("shipment_id,export_date,hs_code,value_usd,shipping_weight_kg,description\nS1,2025-01-02,8504400000,10,1,\"{big}\"\nS2,2025-01-02,8504400000,10,1,ok\n");
    wd.write("big.csv", text);
    let run = wd.run(&["check", "big.csv", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stats: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(stats["accepted"], 2);
    assert_eq!(stats["invalid_cells_by_column"]["description"], 1);
}

#[test]
fn reject_values_are_cut_to_200_characters() {
    let wd = Workdir::new();
    let long = "9".repeat(500);
    wd.write(
        "long.csv",
        format!("shipment_id,export_date,hs_code,value_usd,shipping_weight_kg\nS1,2025-01-02,{long},10,1\n"),
    );
    let run = wd.run(&["check", "long.csv", "--rejects", "r.csv"]);
    assert_eq!(run.code, 3);
    let (_, rows) = read_csv(&wd.path("r.csv"));
    assert_eq!(rows[0][4].chars().count(), 200);
}

#[test]
fn stdin_and_several_files_are_one_batch() {
    let wd = Workdir::new();
    let a = "shipment_id,export_date,hs_code,value_usd,shipping_weight_kg\nA1,2025-01-02,850440,10,1\n";
    wd.write("b.csv", "hs_code,shipment_id,export_date,value_usd,shipping_weight_kg,extra\n850440,A1,2025-01-02,5,1,x\n850440,B2,2025-01-02,5,1,y\n");
    let run = wd.run_stdin(
        &["check", "-", "b.csv", "--json", "--rejects", "r.csv"],
        Some(a.as_bytes()),
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let stats: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(stats["rows"], 3);
    assert_eq!(
        stats["rejects_by_reason"]["DUPLICATE_ID"], 1,
        "ids are unique across the inputs of a run"
    );
    let (_, rows) = read_csv(&wd.path("r.csv"));
    assert_eq!(rows[0][0], "b.csv");
    assert_eq!(rows[0][1], "2");
}

#[test]
fn mapping_reads_another_layout() {
    let wd = Workdir::new();
    wd.write(
        "agency.csv",
        "Declaration ID,Date,HS6 Code,Item Price,Net Mass,Importer ID,Destination,Goods Description,Quantity,Fraud,Office ID,Declarant ID,Country of Origin,Tax Rate\n\
         D1,31/12/2024,847330,100,2,IMP9,SG,adapters,4,1,OF1,DC1,CN,0.1\n\
         D2,01/01/2025,850440,10,1,IMP9,SG,adapters,4,0,OF1,DC1,CN,x\n\
         D3,2025-01-01,850440,10,1,IMP9,SG,adapters,4,0,OF1,DC1,CN,0.1\n",
    );
    let mapping = root("datasets/mapping-example.toml");
    let run = wd.run(&[
        "check",
        "agency.csv",
        "--mapping",
        mapping.to_str().unwrap(),
        "--json",
        "--rejects",
        "r.csv",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let stats: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(stats["accepted"], 2);
    let (_, rows) = read_csv(&wd.path("r.csv"));
    assert_eq!(rows[0][3], "export_date", "the mapped date format is enforced");
    // A mapping whose core source column is absent names it.
    wd.write("m.toml", "[columns]\nvalue_usd = \"Price\"\n");
    let run = wd.run(&["check", "agency.csv", "--mapping", "m.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("value_usd (mapped to `Price`)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bad_mapping_file_is_a_usage_error() {
    let wd = Workdir::new();
    wd.write("m.toml", "[columns]\nshipment = \"ID\"\n");
    wd.write(
        "a.csv",
        "shipment_id,export_date,hs_code,value_usd,shipping_weight_kg\n",
    );
    let run = wd.run(&["check", "a.csv", "--mapping", "m.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("m.toml") && run.stderr.contains("not a canonical column"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_input_file_is_a_usage_error() {
    let wd = Workdir::new();
    let run = wd.run(&["check", "nope.csv"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nope.csv: cannot open"), "{}", run.stderr);
}
