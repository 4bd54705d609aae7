//! One run of stackctl described and checked in one expression, in the style of just's test
//! builder: what the project holds, what is run, and what must come out. A check that does not
//! hold fails with the whole output.
//!
//! ```ignore
//! Test::new("refuse").manifest("services: {}\n").args(&["up"]).code(2).stderr_has("compose.yaml").run();
//! ```

use std::process::Output;

use super::TestProject;

/// A daemon address that cannot answer.
pub const NO_DAEMON: &str = "unix:///nonexistent/stackctl-test.sock";

#[must_use = "a Test does nothing until `.run()`"]
pub struct Test {
    prefix: String,
    manifest: String,
    files: Vec<(String, String)>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    code: i32,
    stdout_has: Vec<String>,
    stderr_has: Vec<String>,
    stderr_lacks: Vec<String>,
    stdout_is: Option<String>,
    offline: bool,
}

/// What a run left: its project (taken down when dropped) and what it printed.
pub struct Ran {
    pub project: TestProject,
    pub out: Output,
}

impl Ran {
    pub fn stdout(&self) -> String {
        super::stdout(&self.out)
    }
    pub fn stderr(&self) -> String {
        super::stderr(&self.out)
    }
}

impl Test {
    /// A project named after `prefix` (made unique), with an empty manifest until `manifest`.
    pub fn new(prefix: &str) -> Self {
        Test {
            prefix: prefix.to_owned(),
            manifest: String::new(),
            files: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            code: 0,
            stdout_has: Vec::new(),
            stderr_has: Vec::new(),
            stderr_lacks: Vec::new(),
            stdout_is: None,
            offline: false,
        }
    }

    /// The project's `compose.yaml`.
    pub fn manifest(mut self, yaml: &str) -> Self {
        self.manifest = yaml.to_owned();
        self
    }

    /// Another file in the project's folder (parents made as needed).
    pub fn file(mut self, path: &str, text: &str) -> Self {
        self.files.push((path.to_owned(), text.to_owned()));
        self
    }

    /// The arguments after `-f compose.yaml -p NAME --progress plain`.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args = args.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The exit code expected (0 unless said).
    pub fn code(mut self, code: i32) -> Self {
        self.code = code;
        self
    }

    pub fn stdout_has(mut self, text: &str) -> Self {
        self.stdout_has.push(text.to_owned());
        self
    }

    pub fn stderr_has(mut self, text: &str) -> Self {
        self.stderr_has.push(text.to_owned());
        self
    }

    pub fn stderr_lacks(mut self, text: &str) -> Self {
        self.stderr_lacks.push(text.to_owned());
        self
    }

    /// Against a daemon address that cannot answer: a command that got past its checks shows it
    /// by failing to connect (exit 1, naming `nonexistent`), a refusal is exit 2. Nothing is
    /// cleaned up on the host daemon afterwards, as nothing can have reached it.
    pub fn offline(mut self) -> Self {
        self.offline = true;
        self
    }

    /// The whole of stdout.
    pub fn stdout_is(mut self, text: &str) -> Self {
        self.stdout_is = Some(text.to_owned());
        self
    }

    /// Runs it and checks every expectation; the project lives on in what is returned.
    pub fn run(self) -> Ran {
        let mut project = TestProject::new(&self.prefix, &self.manifest);
        for (path, text) in &self.files {
            let path = project.path().join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("make the file's folder");
            }
            std::fs::write(&path, text).expect("write a project file");
        }
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let mut cmd = project.cmd(&args);
        if self.offline {
            project.cleanup = false;
            cmd.env("DOCKER_HOST", NO_DAEMON)
                .env_remove("STACKCTL_TARGET");
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let out = cmd.output().expect("run stackctl");
        let ran = Ran { project, out };
        let (stdout, stderr) = (ran.stdout(), ran.stderr());
        let shown = format!("stackctl {args:?}\n--- stdout\n{stdout}--- stderr\n{stderr}");
        assert_eq!(
            ran.out.status.code(),
            Some(self.code),
            "exit code of {shown}"
        );
        for want in &self.stdout_has {
            assert!(
                stdout.contains(want.as_str()),
                "stdout lacks {want:?}: {shown}"
            );
        }
        for want in &self.stderr_has {
            assert!(
                stderr.contains(want.as_str()),
                "stderr lacks {want:?}: {shown}"
            );
        }
        for unwanted in &self.stderr_lacks {
            assert!(
                !stderr.contains(unwanted.as_str()),
                "stderr has {unwanted:?}: {shown}"
            );
        }
        if let Some(want) = &self.stdout_is {
            assert_eq!(&stdout, want, "stdout of {shown}");
        }
        ran
    }
}

#[test]
fn a_test_fails_on_each_expectation_that_does_not_hold() {
    let base = || {
        Test::new("builder")
            .manifest("services:\n  a:\n    image: x\n")
            .args(&["config", "--services"])
            .offline()
    };
    let ran = base().stdout_is("a\n").run();
    assert!(ran.stderr().is_empty());
    let fails =
        |t: Test| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.run())).is_err();
    assert!(fails(base().code(2)), "a wrong exit code");
    assert!(fails(base().stdout_has("b")), "missing stdout text");
    assert!(fails(base().stderr_has("a")), "missing stderr text");
    assert!(fails(base().stdout_is("a")), "not the whole stdout");
    assert!(
        fails(base().stderr_lacks("")),
        "text that must not be there"
    );
    assert!(fails(
        base().file("x/y.txt", "z").args(&["config", "--nope"])
    ));
}
