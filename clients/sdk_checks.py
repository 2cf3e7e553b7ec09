"""The official Python SDKs as the gateway's clients (run by Tests/GatewayTests/OfficialClientTests, in the venv `make clients-env` makes).

    python sdk_checks.py openai-via-gateway GATEWAY_PORT CLAUDE_MOCK_PORT KEY
        OpenAI's SDK against the gateway, whose route `chat` goes to an Anthropic Messages
        upstream (the mock) and then an OpenAI-compatible one: whole and streamed answers,
        tools and system prompts through the translation, usage, a 529 failed over, a 400
        passed back as the SDK's BadRequestError, an overload inside a stream as its APIError.
    python sdk_checks.py anthropic-via-gateway GATEWAY_PORT CLAUDE_MOCK_PORT KEY
        Anthropic's SDK against the gateway's POST /v1/messages: passed through to the Anthropic
        upstream (tools and cache_control on a system block), translated after a failover to the
        OpenAI-compatible one (whole and streamed), a 400 as
        BadRequestError, an overload inside a stream as its APIError.
    python sdk_checks.py anthropic-overloaded GATEWAY_PORT CLAUDE_MOCK_PORT KEY
        An overload no failover got past, through the gateway: Anthropic's own 529, raised by the
        SDK as OverloadedError.
    python sdk_checks.py anthropic-against-mock CLAUDE_MOCK_PORT
        Anthropic's SDK against the mock's POST /v1/messages: the shapes the gateway translates
        are the ones the official client reads (whole, streamed, 529 as OverloadedError, an
        error event inside a stream).

Each check prints one line; the first failure raises (exit 1) with what differed.
"""

import json
import sys
import urllib.request


def fault(port, name, count=1):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/mock/faults",
        data=json.dumps({"fault": name, "count": count}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).read()


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def openai_via_gateway(gateway_port, claude_port, key):
    import openai

    # max_retries=0: every retry here is the gateway's, none the SDK's.
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{gateway_port}/v1", api_key=key, max_retries=0, timeout=30)
    tools = [{"type": "function", "function": {"name": "lookup", "description": "Find", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say something."}]

    whole = client.chat.completions.create(model="chat", messages=messages, tools=tools, max_tokens=5)
    check(whole.choices[0].message.content == "w0 w1 w2 w3 end.", f"whole answer: {whole}")
    check(whole.choices[0].finish_reason == "stop" and whole.usage.completion_tokens == 5, f"whole usage: {whole.usage}")
    print("openai whole answer through an Anthropic upstream: ok")

    raw = client.chat.completions.with_raw_response.create(model="chat", messages=messages, max_tokens=5)
    check(raw.headers.get("x-brownout-upstream") == "claude", f"answered by {raw.headers.get('x-brownout-upstream')}")

    text, usage, finishes = "", None, []
    for chunk in client.chat.completions.create(model="chat", messages=messages, max_tokens=4, stream=True, stream_options={"include_usage": True}):
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    check(text == "w0 w1 w2 end." and finishes == ["stop"], f"stream: {text!r} {finishes}")
    check(usage is not None and usage.completion_tokens == 4, f"stream usage: {usage}")
    print("openai stream through an Anthropic upstream: ok")

    fault(claude_port, "overloaded")
    failed_over = client.chat.completions.with_raw_response.create(model="chat", messages=messages, max_tokens=5)
    check(failed_over.headers.get("x-brownout-upstream") == "gpt", "a 529 fails over")
    check(failed_over.parse().choices[0].message.content == "w0 w1 w2 w3 end.", "the next target's answer")
    print("openai: a 529 failed over by the gateway: ok")

    try:
        client.chat.completions.create(model="only", messages=[{"role": "user", "content": "word " * 80}], max_tokens=5)
        raise AssertionError("a prompt over the context window was answered")
    except openai.BadRequestError as error:
        check("prompt is too long" in str(error), f"the upstream's message: {error}")
    print("openai: Anthropic's context-length refusal as BadRequestError: ok")

    fault(claude_port, "stream_overloaded")
    received = ""
    try:
        for chunk in client.chat.completions.create(model="chat", messages=messages, max_tokens=10, stream=True):
            for choice in chunk.choices:
                received += choice.delta.content or ""
        raise AssertionError("a stream broken by an overload ended cleanly")
    except openai.APIError as error:
        check(received.startswith("w0 ") and "end." not in received, f"received before the break: {received!r}")
        check("stream_interrupted" in str(error.body) or "interrupted" in str(error), f"the error: {error}")
    print("openai: an overload inside a stream, after its first tokens, as APIError: ok")


def anthropic_against_mock(claude_port):
    import anthropic

    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{claude_port}", api_key="test", max_retries=0, timeout=30)
    message = client.messages.create(model="claude-test", max_tokens=5, system="Be brief.", messages=[{"role": "user", "content": "Say something."}])
    check(message.content[0].text == "w0 w1 w2 w3 end." and message.stop_reason == "end_turn", f"whole: {message}")
    check(message.usage.output_tokens == 5 and message.usage.input_tokens >= 1, f"usage: {message.usage}")
    print("anthropic whole answer from the mock: ok")

    with client.messages.stream(model="claude-test", max_tokens=4, messages=[{"role": "user", "content": "Say something."}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(text == "w0 w1 w2 end." and final.usage.output_tokens == 4 and final.stop_reason == "end_turn", f"stream: {text!r} {final}")
    print("anthropic stream from the mock: ok")

    fault(claude_port, "overloaded")
    try:
        client.messages.create(model="claude-test", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
        raise AssertionError("an overloaded mock answered")
    except anthropic.OverloadedError as error:
        check(error.status_code == 529, f"{error}")
    print("anthropic: the mock's 529 as OverloadedError: ok")

    fault(claude_port, "stream_overloaded")
    try:
        with client.messages.stream(model="claude-test", max_tokens=10, messages=[{"role": "user", "content": "hi"}]) as stream:
            "".join(stream.text_stream)
        raise AssertionError("a stream with an error event ended cleanly")
    except anthropic.APIError as error:
        check("overloaded" in str(error).lower(), f"{error}")
    print("anthropic: the mock's error event inside a stream as APIError: ok")


def anthropic_via_gateway(gateway_port, claude_port, key):
    import anthropic

    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{gateway_port}", api_key=key, max_retries=0, timeout=30)
    tools = [{"name": "lookup", "description": "Find", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}]
    system = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    messages = [{"role": "user", "content": "Say something."}]

    raw = client.messages.with_raw_response.create(model="chat", max_tokens=5, system=system, tools=tools, messages=messages)
    message = raw.parse()
    check(raw.headers.get("x-brownout-upstream") == "claude", f"answered by {raw.headers.get('x-brownout-upstream')}")
    check(message.content[0].text == "w0 w1 w2 w3 end." and message.usage.output_tokens == 5, f"whole: {message}")
    print("anthropic whole answer through the gateway (key in x-api-key, tools and cache_control passed on): ok")

    with client.messages.stream(model="chat", max_tokens=4, system=system, messages=messages) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(text == "w0 w1 w2 end." and final.usage.output_tokens == 4 and final.stop_reason == "end_turn", f"stream: {text!r} {final}")
    print("anthropic stream through the gateway: ok")

    fault(claude_port, "overloaded")
    failed_over = client.messages.with_raw_response.create(model="chat", max_tokens=5, tools=tools, messages=messages)
    message = failed_over.parse()
    check(failed_over.headers.get("x-brownout-upstream") == "gpt", "a 529 fails over to the OpenAI-compatible target")
    check(message.type == "message" and message.content[0].text == "w0 w1 w2 w3 end." and message.stop_reason == "end_turn", f"{message}")
    check(message.usage.output_tokens == 5, f"usage: {message.usage}")
    fault(claude_port, "overloaded")
    with client.messages.stream(model="chat", max_tokens=4, messages=messages) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(text == "w0 w1 w2 end." and final.usage.output_tokens == 4 and final.stop_reason == "end_turn", f"translated stream: {text!r} {final}")
    print("anthropic: failed over to an OpenAI-compatible upstream, whole and streamed, a valid Messages answer: ok")

    try:
        client.messages.create(model="only", max_tokens=5, messages=[{"role": "user", "content": "word " * 80}])
        raise AssertionError("a prompt over the context window was answered")
    except anthropic.BadRequestError as error:
        check("prompt is too long" in str(error), f"the upstream's message: {error}")
    print("anthropic: the upstream's context-length refusal as BadRequestError: ok")

    fault(claude_port, "stream_overloaded")
    received = ""
    try:
        with client.messages.stream(model="chat", max_tokens=10, messages=messages) as stream:
            for piece in stream.text_stream:
                received += piece
        raise AssertionError("a stream broken by an overload ended cleanly")
    except anthropic.APIError as error:
        check(received.startswith("w0 ") and "end." not in received, f"received before the break: {received!r}")
    print("anthropic: an overload inside a stream, after its first tokens, as APIError: ok")


def anthropic_overloaded(gateway_port, claude_port, key):
    import anthropic

    # An overload that no failover got past (the route's one target, every attempt): Anthropic's
    # own 529, which the SDK raises as OverloadedError.
    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{gateway_port}", api_key=key, max_retries=0, timeout=30)
    fault(claude_port, "overloaded", count=3)
    try:
        client.messages.create(model="only", max_tokens=5, messages=[{"role": "user", "content": "Say something."}])
        raise AssertionError("an overload every attempt met was answered")
    except anthropic.OverloadedError as error:
        check(error.status_code == 529 and error.response.headers.get("x-brownout-attempts") == "3", f"{error}")
        may_retry = error.response.headers.get("x-should-retry")
    print(f"anthropic: an overload no failover got past as OverloadedError (529, x-should-retry: {may_retry}): ok")


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "openai-via-gateway":
        openai_via_gateway(*arguments)
    elif command == "anthropic-via-gateway":
        anthropic_via_gateway(*arguments)
    elif command == "anthropic-overloaded":
        anthropic_overloaded(*arguments)
    elif command == "anthropic-against-mock":
        anthropic_against_mock(*arguments)
    else:
        sys.exit(f"unknown command {command}")
