//! The board folds containers into service rows and turns keys into actions.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{Action, Board, Input, Key};
use crate::engine::live::Update;
use crate::engine::observe::{ContainerState, ObservedContainer};
use crate::engine::stats::Usage;

fn container(id: &str, service: &str, number: u32, state: ContainerState) -> ObservedContainer {
    ObservedContainer {
        id: id.into(),
        name: format!("p-{service}-{number}"),
        service: service.into(),
        number,
        state,
        ..Default::default()
    }
}

fn board() -> Board {
    let desired = BTreeMap::from([("web".to_owned(), 2), ("db".to_owned(), 1)]);
    Board::new("p", desired, vec!["db".into(), "web".into()])
}

fn press(b: &mut Board, code: KeyCode) -> Key {
    b.key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn containers_fold_into_one_row_per_service() {
    let mut b = board();
    let mut web1 = container("a", "web", 1, ContainerState::Running);
    web1.status = "Up 3 seconds (healthy)".into();
    web1.ports = vec![(Some("0.0.0.0".into()), Some(8080), 80, "tcp".into())];
    web1.restarts = 2;
    let mut web2 = container("b", "web", 2, ContainerState::Exited);
    web2.exit_code = Some(137);
    web2.oom_killed = true;
    let db = container("c", "db", 1, ContainerState::Running);
    b.apply(Input::Live(Update::All(vec![web1, web2, db])));
    b.apply(Input::Live(Update::Usage(
        "a".into(),
        Usage {
            cpu_percent: 12.5,
            memory_bytes: 1024,
            ..Default::default()
        },
    )));
    let rows = b.rows();
    assert_eq!(
        rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["db", "web"]
    );
    let web = &rows[1];
    assert_eq!((web.running, web.desired), (1, 2));

    assert_eq!(web.health, "healthy 1/1");
    assert_eq!(web.restarts, 2);
    assert_eq!(web.exits, ["137 OOM"]);
    assert!(web.oom);
    assert_eq!(web.cpu, 12.5);
    assert_eq!(web.memory, 1024);
    assert_eq!(web.ports, ["127.0.0.1:8080->80/tcp"]);
    // A sample for a container that is not running is not shown.
    b.apply(Input::Live(Update::Usage(
        "b".into(),
        Usage {
            cpu_percent: 50.0,
            ..Default::default()
        },
    )));
    assert_eq!(b.rows()[1].cpu, 12.5);
    b.apply(Input::Live(Update::Gone("b".into())));
    assert!(b.rows()[1].exits.is_empty());
}

#[test]
fn keys_ask_for_what_the_selected_service_needs() {
    let mut b = board();
    b.apply(Input::Live(Update::All(vec![container(
        "a",
        "web",
        1,
        ContainerState::Running,
    )])));
    assert_eq!(press(&mut b, KeyCode::Down), Key::Redraw);
    assert_eq!(b.selected_service(), Some("web"));
    assert_eq!(
        press(&mut b, KeyCode::Char('+')),
        Key::Act(Action::Scale("web".into(), 3))
    );
    assert_eq!(
        press(&mut b, KeyCode::Char('s')),
        Key::Act(Action::Stop("web".into()))
    );
    assert_eq!(press(&mut b, KeyCode::Char('e')), Key::Shell("a".into()));
    assert_eq!(press(&mut b, KeyCode::Char('o')), Key::Redraw);
    assert!(b.note.contains("publishes no port"), "{}", b.note);
    // Down at the end stays there; db has no running container, so `s` starts it.
    press(&mut b, KeyCode::Down);
    assert_eq!(b.selected_service(), Some("web"));
    press(&mut b, KeyCode::Up);
    assert_eq!(
        press(&mut b, KeyCode::Char('s')),
        Key::Act(Action::Start("db".into()))
    );
    assert_eq!(
        b.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Key::Quit
    );
}

#[test]
fn the_search_and_the_focus_filter_the_log() {
    let mut b = board();
    b.apply(Input::Live(Update::All(vec![
        container("a", "web", 1, ContainerState::Running),
        container("c", "db", 1, ContainerState::Running),
    ])));
    assert!(b.shows("p-db-1", "ready"));
    press(&mut b, KeyCode::Char('/'));
    for c in "GET".chars() {
        press(&mut b, KeyCode::Char(c));
    }
    // While typing, `q` is part of the search, not a quit.
    assert_eq!(press(&mut b, KeyCode::Char('q')), Key::Redraw);
    press(&mut b, KeyCode::Backspace);
    press(&mut b, KeyCode::Enter);
    assert_eq!(b.search, "GET");
    assert!(b.shows("p-web-1", "GET / 200") && !b.shows("p-web-1", "POST"));
    press(&mut b, KeyCode::Down);
    press(&mut b, KeyCode::Enter);
    assert_eq!(b.focus.as_deref(), Some("web"));
    assert!(!b.shows("p-db-1", "GET x"));
    press(&mut b, KeyCode::Esc);
    assert!(b.search.is_empty() && b.focus.is_none());
}

#[test]
fn sparklines_scale_to_the_largest_sample() {
    assert_eq!(super::super::sparkline(&[0.0, 50.0, 100.0], 3, 1.0), "▁▅█");
    assert_eq!(super::super::sparkline(&[1.0, 2.0], 5, 100.0), "▁▁");
    assert_eq!(
        super::super::sparkline(&[0.0; 30], 6, 5.0).chars().count(),
        6
    );
}

#[test]
fn a_service_scaled_before_the_view_began_keeps_its_scale() {
    let mut b = board();
    b.apply(Input::Live(Update::All(vec![
        container("c", "db", 1, ContainerState::Running),
        container("d", "db", 2, ContainerState::Running),
    ])));
    assert_eq!((b.rows()[0].running, b.rows()[0].desired), (2, 2));
    b.apply(Input::Desired(BTreeMap::from([("db".to_owned(), 1)])));
    assert_eq!(b.rows()[0].desired, 1);
}
