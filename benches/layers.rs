//! The pure layers at scale: how long loading, planning and ordering take for generated projects
//! of 10,000 services (and more, when asked), with no daemon involved. Each shape stresses a
//! different part: many hubs with fan-in (scale.py's shape), one long dependency chain, and
//! services with replicas, several networks and volumes each. A cost that grows faster than the
//! project shows as a time that more than doubles when the size does.
//!
//! Usage: cargo bench --bench layers -- [SIZE ...] [SHAPE ...]   (default: 5000 10000, every shape)

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use stackctl::manifest::{LoadOptions, load};
use stackctl::plan::{build, dependency_levels};

/// A generated manifest: its name and its text for `n` services.
type Shape = (&'static str, fn(usize) -> String);

const SHAPES: [Shape; 3] = [
    ("hubs: a tenth are hubs, the rest depend on one", hubs),
    ("chain: each depends on the next", chain),
    ("wide: 3 replicas, 2 networks, a volume, ports", wide),
];

fn service(out: &mut String, name: &str) {
    let _ = write!(
        out,
        "  {name}:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n    init: true\n    environment: {{ROLE: {name}}}\n"
    );
}

fn hubs(n: usize) -> String {
    let hubs = (n / 10).max(1);
    let mut out = String::from("services:\n");
    for i in 0..n {
        if i < hubs {
            service(&mut out, &format!("hub{i}"));
        } else {
            service(&mut out, &format!("svc{i}"));
            let _ = writeln!(out, "    depends_on: [hub{}]", i % hubs);
        }
    }
    out
}

fn chain(n: usize) -> String {
    let mut out = String::from("services:\n");
    for i in 0..n {
        service(&mut out, &format!("s{i}"));
        if i + 1 < n {
            let _ = writeln!(
                out,
                "    depends_on: {{s{}: {{condition: service_started}}}}",
                i + 1
            );
        }
    }
    out
}

fn wide(n: usize) -> String {
    let nets = (n / 50).max(2);
    let mut out = String::from("services:\n");
    for i in 0..n {
        service(&mut out, &format!("w{i}"));
        let _ = write!(
            out,
            "    deploy: {{replicas: 3}}\n    networks: [n{}, n{}]\n    volumes: [\"v{i}:/data\"]\n    ports: [\"80\"]\n",
            i % nets,
            (i + 1) % nets
        );
    }
    out.push_str("networks:\n");
    for k in 0..nets {
        let _ = writeln!(out, "  n{k}: {{}}");
    }
    out.push_str("volumes:\n");
    for i in 0..n {
        let _ = writeln!(out, "  v{i}: {{}}");
    }
    out
}

/// The fastest of `rounds` runs of `f`.
fn best<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut fastest = None;
    let mut last = None;
    for _ in 0..rounds {
        let t = Instant::now();
        let out = f();
        let took = t.elapsed();
        fastest = Some(fastest.map_or(took, |b: Duration| b.min(took)));
        last = Some(out);
    }
    (fastest.unwrap(), last.unwrap())
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-') && a.parse::<usize>().is_err())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![5_000, 10_000]
    } else {
        sizes
    };
    let dir = tempfile::tempdir().expect("a scratch folder");
    println!("| shape | services | manifest KB | load ms | plan ms | levels ms | all ms |");
    println!("|---|---|---|---|---|---|---|");
    for (shape, text_of) in SHAPES {
        if !only.is_empty() && !only.iter().any(|o| shape.starts_with(o.as_str())) {
            continue;
        }
        for &n in &sizes {
            let text = text_of(n);
            let file = dir.path().join(format!("{n}.yaml"));
            std::fs::write(&file, &text).expect("write the manifest");
            let opts = LoadOptions {
                files: vec![file],
                project_name: Some("layers".into()),
                cwd: dir.path().to_path_buf(),
                ..LoadOptions::default()
            };
            let (load_t, loaded) = best(3, || load(&opts).expect("the generated manifest loads"));
            let project = loaded.project;
            assert_eq!(project.services.len(), n);
            let (plan_t, plan) = best(3, || build(&project, &BTreeMap::new()));
            assert_eq!(plan.services.len(), n);
            let (levels_t, levels) = best(3, || dependency_levels(&project));
            assert_eq!(levels.iter().map(Vec::len).sum::<usize>(), n);
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "| {shape} | {n} | {} | {:.0} | {:.0} | {:.1} | {:.0} |",
                text.len() / 1024,
                ms(load_t),
                ms(plan_t),
                ms(levels_t),
                ms(load_t + plan_t + levels_t)
            );
        }
    }
}
