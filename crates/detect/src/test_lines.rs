//! Lines written by hand for the detection layer's unit tests.

use sentinel_manifest::batch::Batch;

use crate::model::Model;
use crate::pipeline::Evidence;

/// Two hand-written lines read as a batch, scored with the embedded
/// model: a relabelled GPU line with every trait, and a plain line
/// whose quantity, invoice value and amendment count are not given.
pub(crate) fn two_lines() -> (Model, Batch, Evidence) {
    let csv = "shipment_id,filing_id,export_date,usppi_name,usppi_id,usppi_address,ultimate_consignee_name,ultimate_consignee_type,ultimate_consignee_country,intermediate_consignee_name,intermediate_consignee_country,forwarder_name,port_of_export,transport_mode,carrier,hs_code,description,brand,eccn,license_code,quantity,quantity_unit,value_usd,shipping_weight_kg,package_count,invoice_description,invoice_value_usd,amendment_count,payer_country\n\
S1,F1,2025-03-01,Sandkyan Technology LLC,,\"12 Maple Ave Apt 3, Edison NJ\",Fast Cargo Logistics Ltd,O,HK,Apex Freight Pte Ltd,SG,,EWR NJ,air,Cargo Air,8504.40.9580,power adapter,Zentrix,,C33,8,NO,2400,180,2,GPU module,150000,2,CN\n\
S2,F2,2025-03-02,Acme Corp,12-3456789,1 Main St,Acme Buyer GmbH,D,DE,,,,JFK NY,vessel,Maersk,847150,desktop computer,Dell,EAR99,C33,,,1000,20,x,,,,DE\n";
    let mut r = sentinel_manifest::reader::Reader::from_csv_reader(
        "lines.csv",
        Box::new(std::io::Cursor::new(csv.as_bytes().to_vec())),
        None,
        None,
    )
    .unwrap();
    let b = r.read_all().unwrap();
    assert_eq!(b.len, 2);
    let model = crate::model::embedded::load().unwrap();
    let hist = crate::in_memory::histories(&model, &b);
    let ev = crate::pipeline::evidence(&model.parts, &b, &hist);
    (model, b, ev)
}
