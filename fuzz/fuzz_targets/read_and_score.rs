//! Fuzz target: any bytes as a manifest CSV go through the reader, and the
//! accepted rows through histories, features, both models and reasons. It
//! must never panic, and rows in = accepted + rejected.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sentinel::model::{embedded, Model};
use sentinel::pipeline::{self, Mode};
use sentinel::reader::Reader;
use sentinel::{in_memory, reasons};

fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(|| embedded::load().expect("embedded model"))
}

fuzz_target!(|data: &[u8]| {
    // A header that names the core and most expected columns, then the fuzz
    // bytes as records; half the inputs bring their own header instead.
    let mut bytes = Vec::new();
    if data.first().is_some_and(|b| b % 2 == 0) {
        bytes.extend_from_slice(b"shipment_id,export_date,hs_code,value_usd,shipping_weight_kg,description,quantity,quantity_unit,ultimate_consignee_country,usppi_name,usppi_address,brand,payer_country,invoice_value_usd,package_count\n");
    }
    bytes.extend_from_slice(data);
    let Ok(mut r) = Reader::from_csv_reader("fuzz.csv", Box::new(std::io::Cursor::new(bytes)), None, None) else {
        return;
    };
    let Ok(b) = r.read_all() else { return };
    assert_eq!(r.stats.rows, r.stats.accepted + r.stats.rejected);
    assert_eq!(b.len as u64, r.stats.accepted);
    if b.len == 0 {
        return;
    }
    let m = model();
    let h = in_memory::histories(m, &b);
    let ev = pipeline::evidence(&m.parts, &b, &h);
    for mode in [Mode::Supervised, Mode::LabelFree] {
        let s = pipeline::score(&m.parts, &ev, mode);
        let attr = pipeline::attributions(&m.parts, &ev, mode, 0..b.len);
        assert_eq!(attr.len(), b.len);
        for ((i, risk), attr) in s.risk.iter().enumerate().zip(&attr) {
            assert!((0.0..=1.0).contains(risk), "risk {risk}");
            let _ = reasons::explain(&m.parts, &ev, &b, i, attr, 4);
        }
    }
});
