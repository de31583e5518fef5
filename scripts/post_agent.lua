-- wrk script: POST /atoms/v1/agent with a small JSON body.
wrk.method = "POST"
wrk.body = '{"name": "load", "firstMessage": "Hello from the load test."}'
wrk.headers["Content-Type"] = "application/json"
