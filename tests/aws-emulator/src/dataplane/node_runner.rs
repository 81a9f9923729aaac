//! Lambda@Edge code run for real: one `node` child process, started on the
//! first invocation and kept (a cold start per request would cost ~50 ms),
//! that takes one JSON line per invocation on stdin — the module file, the
//! exported handler's name, the environment, the event — imports the
//! module (Node caches it per file, and each code version lives in its own
//! directory), calls `handler(event, context)` with the environment set as
//! Lambda sets it (the role's credentials in `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: Lambda developer guide,
//! "Defined runtime environment variables",
//! https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
//! and answers one JSON line. Invocations are served one at a time.
//!
//! The child dies with the emulator: it is killed when the runner is
//! dropped (`kill_on_drop`), and it exits by itself when its stdin closes
//! (the emulator's process ended without dropping it). A timed-out child
//! is killed and the next invocation starts a new one.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;

/// The runner's own code: a loop over stdin's lines.
const RUNNER: &str = r#"
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
const CREDENTIALS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
for await (const line of createInterface({ input: process.stdin })) {
  let answer;
  try {
    const { module, handler, env, event } = JSON.parse(line);
    for (const name of CREDENTIALS) delete process.env[name];
    Object.assign(process.env, env);
    const exports = await import(pathToFileURL(module).href);
    if (typeof exports[handler] !== 'function') throw new Error(`${module} exports no function ${handler}`);
    const result = await exports[handler](event, { functionName: env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION });
    answer = { result: result ?? null };
  } catch (e) {
    answer = { error: String(e?.stack ?? e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
"#;

/// Why an invocation gave no result.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    #[error("starting node: {0} (node must be on PATH to run Lambda@Edge code)")]
    Spawn(std::io::Error),
    #[error("talking to the node runner: {0}")]
    Pipe(std::io::Error),
    #[error("the node runner ended")]
    Ended,
    #[error("the function did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the function failed: {0}")]
    Function(String),
    #[error("the node runner answered garbage: {0}")]
    Garbage(String),
}

struct Running {
    /// Kept for `kill_on_drop`.
    _child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

/// The node child process, started on demand.
#[derive(Default)]
pub(crate) struct NodeRunner {
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for NodeRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeRunner")
    }
}

fn spawn() -> Result<Running, RunError> {
    let mut child = Command::new("node")
        .args(["--input-type=module", "-e", RUNNER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(RunError::Spawn)?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(RunError::Ended);
    };
    tracing::info!(pid = child.id(), "node runner started");
    Ok(Running {
        _child: child,
        stdin,
        stdout: BufReader::new(stdout).lines(),
    })
}

impl NodeRunner {
    /// Calls `handler` exported by `module` with `event`, in `env`, within
    /// `timeout`; the handler's result.
    pub(crate) async fn invoke(
        &self,
        module: &Path,
        handler: &str,
        env: &[(&str, String)],
        event: &Value,
        timeout: Duration,
    ) -> Result<Value, RunError> {
        let mut running = self.running.lock().await;
        if running.is_none() {
            *running = Some(spawn()?);
        }
        let env: serde_json::Map<String, Value> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(v.clone())))
            .collect();
        let line =
            json!({"module": module, "handler": handler, "env": env, "event": event}).to_string();
        let exchange = async {
            let process = running.as_mut().ok_or(RunError::Ended)?;
            process
                .stdin
                .write_all(format!("{line}\n").as_bytes())
                .await
                .map_err(RunError::Pipe)?;
            process.stdin.flush().await.map_err(RunError::Pipe)?;
            process
                .stdout
                .next_line()
                .await
                .map_err(RunError::Pipe)?
                .ok_or(RunError::Ended)
        };
        let answer = match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                *running = None;
                return Err(e);
            }
            Err(_) => {
                *running = None;
                return Err(RunError::Timeout(timeout));
            }
        };
        let mut answer: Value =
            serde_json::from_str(&answer).map_err(|_| RunError::Garbage(answer.clone()))?;
        if let Some(error) = answer.get("error").and_then(Value::as_str) {
            return Err(RunError::Function(error.to_owned()));
        }
        Ok(answer["result"].take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(dir: &Path, source: &str) -> std::path::PathBuf {
        std::fs::create_dir_all(dir).expect("dir");
        let path = dir.join("index.mjs");
        std::fs::write(&path, source).expect("module");
        path
    }

    #[tokio::test]
    async fn handlers_run_with_their_environment_and_failures_are_reported() {
        let dir = std::env::temp_dir().join(format!("node-runner-test-{}", std::process::id()));
        let echo = module(
            &dir.join("a"),
            "export const handler = async (event) => ({ key: process.env.AWS_ACCESS_KEY_ID, token: process.env.AWS_SESSION_TOKEN ?? null, got: event.n });",
        );
        let failing = module(
            &dir.join("b"),
            "export async function handler() { throw new Error('boom'); }",
        );
        let slow = module(
            &dir.join("c"),
            "export const handler = () => new Promise(() => {});",
        );
        let runner = NodeRunner::default();
        let second = Duration::from_secs(10);
        let env = [
            ("AWS_ACCESS_KEY_ID", "ASIA1".to_owned()),
            ("AWS_SESSION_TOKEN", "t".to_owned()),
        ];
        let result = runner
            .invoke(&echo, "handler", &env, &json!({"n": 1}), second)
            .await
            .expect("result");
        assert_eq!(result, json!({"key": "ASIA1", "token": "t", "got": 1}));
        let result = runner
            .invoke(
                &echo,
                "handler",
                &[("AWS_ACCESS_KEY_ID", "ASIA2".to_owned())],
                &json!({"n": 2}),
                second,
            )
            .await
            .expect("result");
        assert_eq!(
            result,
            json!({"key": "ASIA2", "token": null, "got": 2}),
            "credentials are replaced, not merged"
        );
        let failed = runner
            .invoke(&failing, "handler", &env, &json!({}), second)
            .await;
        assert!(
            matches!(&failed, Err(RunError::Function(m)) if m.contains("boom")),
            "{failed:?}"
        );
        let missing = runner.invoke(&echo, "nope", &env, &json!({}), second).await;
        assert!(
            matches!(&missing, Err(RunError::Function(m)) if m.contains("exports no function nope")),
            "{missing:?}"
        );
        let timed_out = runner
            .invoke(
                &slow,
                "handler",
                &env,
                &json!({}),
                Duration::from_millis(300),
            )
            .await;
        assert!(matches!(timed_out, Err(RunError::Timeout(_))));
        let again = runner
            .invoke(&echo, "handler", &env, &json!({"n": 3}), second)
            .await
            .expect("a new child");
        assert_eq!(again["got"], 3);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
