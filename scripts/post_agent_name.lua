-- wrk script: POST /atoms/v1/agent with a name only (the default config).
wrk.method = "POST"
wrk.body = '{"name": "load"}'
wrk.headers["Content-Type"] = "application/json"
