#[test]
fn dump() {
    let s = schemars::schema_for!(archsim::schema::raw::RawScenario);
    std::fs::write("/tmp/scr/scenario.json", serde_json::to_string_pretty(&s).unwrap()).unwrap();
    let s = schemars::schema_for!(archsim::schema::raw::RawModel);
    std::fs::write("/tmp/scr/model.json", serde_json::to_string_pretty(&s).unwrap()).unwrap();
}
