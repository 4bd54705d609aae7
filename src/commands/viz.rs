//! `alpha viz`: the project's services and what each depends on, as a Graphviz `digraph`, drawn
//! as compose draws it (a node per service, an edge to each dependency), in a steady order.

use anyhow::Result;
use serde_yaml::Value;

use super::Ctx;
use crate::cli::VizArgs;
use crate::exit::UsageError;

pub fn run(ctx: &Ctx, args: VizArgs) -> Result<()> {
    let indent = match usize::try_from(args.indentation_size) {
        Ok(n) => (if args.spaces { " " } else { "\t" }).repeat(n),
        Err(_) => {
            return Err(UsageError::new(format!(
                "--indentation-size {}: a size is 0 or more",
                args.indentation_size
            ))
            .hint("give the number of tabs (or with --spaces, spaces) to indent by")
            .into());
        }
    };
    crate::ui::note("viz command is EXPERIMENTAL");
    let loaded = ctx.load()?;
    let printed = super::config::as_printed(&loaded.project, ctx.global.all_resources);
    let mut doc = serde_yaml::to_value(&printed)?;
    crate::manifest::printed::as_compose_prints(&mut doc, false);
    // compose prints the graph and then an empty line.
    crate::ui::out(format!("{}\n", graph(&doc, &args, &indent)))?;
    Ok(())
}

/// The graph of the project `doc` (as `config` prints it).
fn graph(doc: &Value, shown: &VizArgs, indent: &str) -> String {
    let project = doc.get("name").and_then(Value::as_str).unwrap_or_default();
    let services: Vec<(&str, &Value)> = doc
        .get("services")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .collect();
    let mut out = format!("digraph \"{project}\" {{\n{indent}layout=dot;\n");
    for (name, svc) in &services {
        out.push_str(&format!(
            "{indent}\"{name}\" [style=\"filled\" label=<<font point-size=\"15\">{name}</font>"
        ));
        let networks = by_priority(svc);
        if shown.networks && !networks.is_empty() {
            out.push_str("<font point-size=\"10\"><br/><br/><b>Networks:</b>");
            for n in networks {
                out.push_str(&format!("<br/>{n}"));
            }
            out.push_str("</font>");
        }
        let ports = svc.get("ports").and_then(Value::as_sequence);
        if shown.ports && ports.is_some_and(|p| !p.is_empty()) {
            out.push_str("<font point-size=\"10\"><br/><br/><b>Ports:</b>");
            for p in ports.into_iter().flatten() {
                out.push_str(&format!("<br/>{}", port_line(p)));
            }
            out.push_str("</font>");
        }
        if shown.image {
            let image = svc
                .get("image")
                .and_then(Value::as_str)
                .map_or_else(|| format!("{project}-{name}"), str::to_owned);
            out.push_str(&format!(
                "<font point-size=\"10\"><br/><br/><b>Image:</b><br/>{image}</font>"
            ));
        }
        out.push_str(">];\n");
    }
    out.push('\n');
    for (name, svc) in &services {
        let deps = svc.get("depends_on").and_then(Value::as_mapping);
        for dep in deps.into_iter().flatten().filter_map(|(k, _)| k.as_str()) {
            out.push_str(&format!("{indent}\"{name}\" -> \"{dep}\";\n"));
        }
    }
    out.push_str("}\n");
    out
}

/// A service's networks, highest priority first, then by name (compose's order).
fn by_priority(svc: &Value) -> Vec<&str> {
    let mut list: Vec<(i64, &str)> = svc
        .get("networks")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let priority = v.get("priority").and_then(Value::as_i64).unwrap_or(0);
            Some((priority, k.as_str()?))
        })
        .collect();
    list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    list.into_iter().map(|(_, n)| n).collect()
}

/// `[HOST_IP:]PUBLISHED:TARGET (PROTOCOL, MODE)`, as compose labels a port.
fn port_line(p: &Value) -> String {
    let text = |k: &str| match p.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let host = text("host_ip");
    let host = if host.is_empty() {
        host
    } else {
        format!("{host}:")
    };
    format!(
        "{host}{}:{} ({}, {})",
        text("published"),
        text("target"),
        text("protocol"),
        text("mode")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(ports: bool, networks: bool, image: bool) -> VizArgs {
        VizArgs {
            ports,
            networks,
            image,
            indentation_size: 1,
            spaces: false,
        }
    }

    const DOC: &str = "name: demo
services:
  web:
    depends_on:
      db: {condition: service_started, required: true}
    networks:
      back: null
      front: {priority: 5}
    ports:
      - {mode: ingress, host_ip: 127.0.0.1, target: 80, published: \"8080\", protocol: tcp}
  db:
    image: postgres:16
    networks:
      back: null
";

    #[test]
    fn services_are_nodes_and_dependencies_edges() {
        let doc: Value = serde_yaml::from_str(DOC).unwrap();
        let g = graph(&doc, &args(false, false, false), "\t");
        assert_eq!(
            g,
            "digraph \"demo\" {\n\tlayout=dot;\n\t\"web\" [style=\"filled\" label=<<font point-size=\"15\">web</font>>];\n\t\"db\" [style=\"filled\" label=<<font point-size=\"15\">db</font>>];\n\n\t\"web\" -> \"db\";\n}\n"
        );
    }

    #[test]
    fn ports_networks_and_images_are_shown_when_asked() {
        let doc: Value = serde_yaml::from_str(DOC).unwrap();
        let g = graph(&doc, &args(true, true, true), "  ");
        assert!(
            g.contains("<b>Networks:</b><br/>front<br/>back</font>"),
            "{g}"
        );
        assert!(
            g.contains("<b>Ports:</b><br/>127.0.0.1:8080:80 (tcp, ingress)</font>"),
            "{g}"
        );
        assert!(g.contains("<b>Image:</b><br/>demo-web</font>"), "{g}");
        assert!(g.contains("<b>Image:</b><br/>postgres:16</font>"), "{g}");
        assert!(g.contains("\n  \"web\" -> \"db\";\n"), "{g}");
    }
}
