//! Client-tool calls of a [`Conversation`] (LIVE W1): declaring tools,
//! scripted and default-rule calls, their results and time-outs, and the
//! `tool_output` variables of the next turn.
//!
//! The agent calls a tool declared with `session.update` (see
//! [`tools`](super::tools)) in two cases: a scenario `toolCall` step
//! (its `name`, else the first declared tool; an undeclared tool is
//! skipped with an `agent_log` warning), and the default rule: a committed
//! user turn whose text names a declared tool ([`tools::named_in`]) when
//! the scenario's next step is not itself a `toolCall`. The server sends
//! `function_call {call_id, name, arguments}` at once (`arguments`
//! generated from the tool's `parameters`, the step's values merged over
//! them, and validated; a step whose values do not validate sends no call
//! but `error {code: internal_error}` and a `tool_call_error` event).
//! - `expectsResponse` true (default): the agent waits. The matching
//!   `function_call.result` ends the wait (`tool_call_end`, with
//!   `latency_ms` on the mock's clock and the output, parsed when it is
//!   JSON, as `response`); after `timeout_ms` of the mock's clock the
//!   client gets `error {code: tool_timeout}` and the call log
//!   `tool_call_error`, and the agent goes on without the output.
//! - `expectsResponse: false`: fire and forget. `tool_call_end` is
//!   recorded at once and the agent goes on immediately; a result sent for
//!   it later is accepted and ignored.
//! - The agent's next turn uses the output: `{{tool_output}}` (the output
//!   string, "" after a timeout or a fire-and-forget call),
//!   `{{tool_output.<key>}}` (top-level fields of a JSON-object output) and
//!   `{{tool_error}}` (`tool_timeout` or "") fill its text; unknown
//!   placeholders stay as written, as for variables. The next agent turn
//!   instead says the [`quote`] of the output ([`TIMEOUT_ANSWER`] after a
//!   timeout) when it has no `text`, when its scripted text mentions
//!   neither `tool_output` nor `tool_error` after a default-rule call (the
//!   script could not foresee that call), or when it needs `tool_output`
//!   but the call timed out (and it does not mention `tool_error`). When
//!   the next step is not an agent turn, that answer is an extra agent
//!   turn before it.
//! - Errors, the session staying open: `unknown_call_id` for a result
//!   whose `call_id` is not pending (never issued, already answered, or
//!   timed out); `result_too_large` for an `output` over 64 KB (65 536
//!   bytes of UTF-8), after which the call **stays pending** so a shorter
//!   result can still be sent before the timeout.
//!
//! Tool calls go to the call log and the SSE stream as the spec's
//! `tool_call_start`, `tool_call_end` and `tool_call_error` events, with
//! `turn_id` (`turn_<n>`, the agent turn the call belongs to),
//! `tool_call_id` (the `call_id`) and `function_name`.

use super::*;

impl Conversation {
    /// `session.update {tools}` at `now` (LIVE W1): replaces the runtime
    /// tools and answers `session.updated {tools: names}`, or answers
    /// `error` and changes nothing (codes in [`tools`]).
    pub fn declare_tools(&mut self, raw: &Value, now: Millis) -> Res {
        self.tick(now)?;
        match tools::declare(raw, &self.config) {
            Ok(set) => {
                self.out.push(ServerFrame::SessionUpdated { tools: set.iter().map(|t| t.name.clone()).collect() });
                self.tools = set;
            }
            Err(e) => self.out.push(error(e.code(), e.message())),
        }
        Ok(())
    }

    /// `function_call.result {call_id, output}` at `now` (see the module
    /// docs for `unknown_call_id` and `result_too_large`).
    pub fn tool_result(&mut self, call_id: &str, output: &str, now: Millis) -> Res {
        self.tick(now)?;
        if self.closing.is_some() {
            return Ok(());
        }
        let pending = matches!(&self.phase, Phase::Calling(c) if c.call_id == call_id);
        if !pending {
            let why = match self.settled.get(call_id) {
                Some(Settled::FireAndForget) => return Ok(()),
                Some(Settled::TimedOut) => " (it timed out)",
                Some(Settled::Answered) => " (it was already answered)",
                None => "",
            };
            let msg = format!("No pending function call with call_id '{call_id}'{why}");
            self.out.push(error("unknown_call_id", msg));
            return Ok(());
        }
        if output.len() > MAX_RESULT_BYTES {
            let msg = format!(
                "output is {} bytes; the limit is {MAX_RESULT_BYTES} bytes (64 KB). The call is still pending: \
                 send a shorter result",
                output.len()
            );
            self.out.push(error("result_too_large", msg));
            return Ok(());
        }
        let Phase::Calling(c) = std::mem::replace(&mut self.phase, Phase::Done) else { return Ok(()) };
        self.settled.insert(c.call_id.clone(), Settled::Answered);
        let response = serde_json::from_str::<Value>(output).unwrap_or_else(|_| Value::String(output.to_string()));
        let mut f = tool_fields(&c.turn_id, &c.call_id, &c.tool);
        f.insert("latency_ms".into(), json!(now - c.sent_at));
        f.insert("success".into(), json!(true));
        f.insert("response".into(), response);
        self.live.event(now, "tool_call_end", f)?;
        self.set_tool_vars(output, "");
        self.answer = Some(Answer { text: quote(output), replaces: c.replaces, failed: false });
        self.after_call(c.step, now)
    }

    /// A scenario `toolCall` step is due.
    pub(super) fn scripted_call(&mut self, t: &ToolCallStep, at: Millis) -> Res {
        let tool = match &t.name {
            Some(n) => self.tools.iter().find(|x| &x.name == n),
            None => self.tools.first(),
        };
        let Some(tool) = tool.cloned() else {
            let what = t
                .name
                .as_deref()
                .map_or_else(|| "no client tool is".to_string(), |n| format!("client tool '{n}' is not"));
            let meta = json!({"level": "warning", "tags": ["client_tools"],
                              "message": format!("{what} declared on this session; the agent skipped the toolCall step")});
            self.live.event(at, "agent_log", Map::from_iter([("metadata".to_string(), meta)]))?;
            return self.after_call(true, at);
        };
        self.call_tool(tool, t.arguments.as_ref(), at, true, false)
    }

    /// Sends `function_call` for `tool` and waits (or not, for a
    /// fire-and-forget tool). `step`: a scenario step; `replaces`: the
    /// default rule.
    pub(super) fn call_tool(
        &mut self,
        tool: ClientTool,
        given: Option<&Map<String, Value>>,
        at: Millis,
        step: bool,
        replaces: bool,
    ) -> Res {
        self.calls_made += 1;
        let call_id =
            format!("call_{}", derived_id(&["client-tool", self.live.call_id(), &self.calls_made.to_string()]));
        let turn_id = format!("turn_{}", self.agent_turns + 1);
        let arguments = match tools::arguments(&tool, given) {
            Ok(a) => a,
            Err(e) => {
                let msg = format!("The scenario's arguments for '{}' do not match its parameters: {e}", tool.name);
                let mut f = tool_fields(&turn_id, &call_id, &tool.name);
                f.insert("success".into(), json!(false));
                f.insert("error".into(), json!({"code": "invalid_arguments", "message": msg}));
                self.live.event(at, "tool_call_error", f)?;
                self.out.push(error("internal_error", msg));
                return self.after_call(step, at);
            }
        };
        self.out.push(ServerFrame::FunctionCall {
            call_id: call_id.clone(),
            name: tool.name.clone(),
            arguments: arguments.clone(),
        });
        let mut f = tool_fields(&turn_id, &call_id, &tool.name);
        let context = json!({"arguments": arguments, "client_tool": true,
                             "expects_response": tool.expects_response, "timeout_ms": tool.timeout_ms});
        f.insert("context".into(), context);
        self.live.event(at, "tool_call_start", f)?;
        if !tool.expects_response {
            self.settled.insert(call_id.clone(), Settled::FireAndForget);
            let mut f = tool_fields(&turn_id, &call_id, &tool.name);
            f.extend([
                ("latency_ms".into(), json!(0)),
                ("success".into(), json!(true)),
                ("response".into(), Value::Null),
            ]);
            self.live.event(at, "tool_call_end", f)?;
            self.set_tool_vars("", "");
            return self.after_call(step, at);
        }
        let deadline = at + ms(tool.timeout_ms);
        self.phase =
            Phase::Calling(Calling { call_id, tool: tool.name, turn_id, sent_at: at, deadline, step, replaces });
        Ok(())
    }

    /// No result within the tool's `timeout_ms`.
    pub(super) fn time_out(&mut self, c: &Calling, at: Millis) -> Res {
        self.settled.insert(c.call_id.clone(), Settled::TimedOut);
        let msg =
            format!("No function_call.result for call_id '{}' ({}) within {} ms", c.call_id, c.tool, at - c.sent_at);
        let mut f = tool_fields(&c.turn_id, &c.call_id, &c.tool);
        f.insert("latency_ms".into(), json!(at - c.sent_at));
        f.insert("success".into(), json!(false));
        f.insert("error".into(), json!({"code": "tool_timeout", "message": msg}));
        self.live.event(at, "tool_call_error", f)?;
        self.out.push(error("tool_timeout", msg));
        self.set_tool_vars("", "tool_timeout");
        self.answer = Some(Answer { text: TIMEOUT_ANSWER.into(), replaces: c.replaces, failed: true });
        self.after_call(c.step, at)
    }

    pub(super) fn after_call(&mut self, step: bool, at: Millis) -> Res {
        if step {
            self.cursor += 1;
        }
        self.next_step(at)
    }

    /// Sets `{{tool_output}}`, `{{tool_output.<key>}}` and `{{tool_error}}`
    /// for the next agent turns.
    pub(super) fn set_tool_vars(&mut self, output: &str, error: &str) {
        let vars = &mut self.ctx.variables;
        vars.retain(|k, _| k != "tool_output" && k != "tool_error" && !k.starts_with("tool_output."));
        vars.insert("tool_output".into(), json!(output));
        vars.insert("tool_error".into(), json!(error));
        if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(output) {
            for (k, v) in fields {
                let v = match v {
                    s @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => s,
                    other => Value::String(other.to_string()),
                };
                vars.insert(format!("tool_output.{k}"), v);
            }
        }
    }
}

/// The common fields of the `tool_call_*` events.
fn tool_fields(turn_id: &str, call_id: &str, tool: &str) -> Map<String, Value> {
    Map::from_iter([
        ("turn_id".to_string(), json!(turn_id)),
        ("tool_call_id".to_string(), json!(call_id)),
        ("function_name".to_string(), json!(tool)),
    ])
}
