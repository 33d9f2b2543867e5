use govdata::*;
fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n: u32 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let e = Engine::with_defaults().unwrap();
    let mut r = Request::new("zhang.san", Action::Query, Resource::dataset("hukou"));
    r.context.scenario_risk = Some(govdata::model::ScenarioRisk::Low);
    e.decide(&r).unwrap();
    let plain = e.plain_cedar().unwrap();
    let cr = plain.cedar_request(&r).unwrap();
    for _ in 0..n {
        if mode == "plain" {
            std::hint::black_box(plain.is_authorized(&cr));
        } else {
            std::hint::black_box(e.decide(&r).unwrap());
        }
    }
}
