"""SDK steps for knowledge bases, call actions, prompt scoring, the widget and
the WebEngage integration (`client.atoms.knowledge_base`, `.call_actions`,
`.prompt_scoring`, `.integrations` and the widget methods of `.agents`).

Called from `sdk_contract.main()` as `steps(client, agent_id, version_id, h)`,
where `h` is the running `sdk_contract` module (its `sdk`, `step`, `check`,
`expect_error`, `advance` and `ROOT`). Every method is called through the SDK
and its raw answer validated strictly against the SDK's model by `h.sdk`.
"""

import urllib.request

from smallestai.atoms import BadRequestError, NotFoundError

# A minimal PDF whose only text is one sentence (uncompressed Tj).
PDF = b"%PDF-1.4\n1 0 obj<< /Length 44 >>stream\nBT (Refunds take five business days.) Tj ET\nendstream endobj\n%%EOF\n"


def knowledge_base_steps(client, h):
    kb = client.atoms.knowledge_base
    created, _ = h.sdk(kb, "create", name="SDK FAQ", description="contract")
    kb_id = created.data
    h.check(isinstance(kb_id, str) and len(kb_id) == 24, f"knowledge_base.create: {created!r}")
    listed, raw = h.sdk(kb, "list")
    h.check([k["_id"] for k in raw["data"]] == [kb_id], f"knowledge_base.list: {raw}")
    got, raw = h.sdk(kb, "get", kb_id)
    h.check(raw["data"]["name"] == "SDK FAQ", f"knowledge_base.get: {raw}")
    h.sdk(kb, "update_a_knowledge_base_name_description", kb_id, name="SDK FAQ 2")
    _, raw = h.sdk(kb, "get", kb_id)
    h.check(raw["data"]["name"] == "SDK FAQ 2" and raw["data"]["description"] == "contract", f"update: {raw}")
    h.step("knowledge_base.create / list / get / update_a_knowledge_base_name_description")

    h.sdk(kb, "upload_a_pdf_file_to_a_knowledge_base", kb_id, media=("faq.pdf", PDF, "application/pdf"))
    e = h.expect_error(kb, "upload_a_pdf_file_to_a_knowledge_base", BadRequestError, 400, "Only PDF files are allowed",
                       kb_id, media=("notes.txt", b"hello", "text/plain"))
    presigned, raw = h.sdk(kb, "get_a_presigned_s3url_for_direct_file_upload", file_name="guide.pdf",
                           file_size=len(PDF), content_type="application/pdf", knowledge_base_id=kb_id)
    put = urllib.request.Request(raw["data"]["url"], data=PDF, method="PUT", headers={"Content-Type": "application/pdf"})
    with urllib.request.urlopen(put, timeout=30) as res:
        h.check(res.status == 200, f"storage PUT: HTTP {res.status}")
    h.sdk(kb, "complete_a_presigned_url_upload_and_start_processing", file_name="guide.pdf",
          content_type="application/pdf", knowledge_base_id=kb_id, key=raw["data"]["key"], file_size=len(PDF))
    h.step(f"knowledge_base uploads: media, presigned URL + PUT + complete; a text file raises {e.body!r}")

    for _ in range(60):
        _, raw = h.sdk(kb, "get_all_knowledge_base_items", kb_id)
        if all(i["processingStatus"] in ("completed", "failed") for i in raw["data"]):
            break
        h.advance(1)
    states = sorted(i["processingStatus"] for i in raw["data"])
    h.check(states == ["completed", "completed"], f"get_all_knowledge_base_items: {raw}")
    h.sdk(kb, "delete_a_knowledge_base_item", kb_id, raw["data"][0]["_id"])
    _, raw = h.sdk(kb, "get_all_knowledge_base_items", kb_id)
    h.check(len(raw["data"]) == 1, f"delete_a_knowledge_base_item: {raw}")
    h.step("knowledge_base.get_all_knowledge_base_items reach completed on the clock; delete_a_knowledge_base_item")

    _, raw = h.sdk(kb, "extract_sitemap_urls", site_url="https://acme.example/sitemap.xml", knowledge_base_id=kb_id)
    h.check("https://acme.example/faq" in raw["data"]["urls"], f"extract_sitemap_urls: {raw}")
    h.sdk(kb, "scrape_urls", kb_id, urls=["https://acme.example/faq"])
    _, raw = h.sdk(kb, "list_scraped_ur_ls_in_a_knowledge_base_their_status", kb_id)
    h.check([u["url"] for u in raw["data"]] == ["https://acme.example/faq"], f"scraped urls: {raw}")
    h.sdk(kb, "delete_a_scraped_url_from_a_knowledge_base", kb_id, raw["data"][0]["_id"])
    _, raw = h.sdk(kb, "list_scraped_ur_ls_in_a_knowledge_base_their_status", kb_id)
    h.check(raw["data"] == [], f"delete_a_scraped_url_from_a_knowledge_base: {raw}")
    h.step("knowledge_base.extract_sitemap_urls / scrape_urls / list_scraped_ur_ls… / delete_a_scraped_url…")

    h.sdk(kb, "delete", kb_id)
    e = h.expect_error(kb, "get", NotFoundError, 404, "Knowledge base not found", kb_id)
    h.step(f"knowledge_base.delete; get raises {e.body!r}")


def call_action_steps(client, agent_id, h):
    ca = client.atoms.call_actions
    created, raw = h.sdk(ca, "create_call_action", agent_id=agent_id, category="post-call", provider="hubspot",
                         config={"conditions": [{"field": "callStatus", "operator": "eq", "value": "completed"}]})
    action_id = raw["data"]["_id"]
    _, raw = h.sdk(ca, "list_call_actions", agent_id=agent_id)
    h.check(raw["data"]["totalCount"] == 1, f"list_call_actions: {raw}")
    _, raw = h.sdk(ca, "get_call_action", action_id)
    h.check(raw["data"]["provider"] == "hubspot", f"get_call_action: {raw}")
    _, raw = h.sdk(ca, "update_call_action", action_id, category="trigger", config={"phoneNumberFieldName": "phone"})
    h.check(raw["data"]["category"] == "trigger", f"update_call_action: {raw}")
    e = h.expect_error(ca, "create_call_action", BadRequestError, 400, "phoneNumberFieldName", agent_id=agent_id,
                       category="trigger", provider="hubspot", config={})
    h.sdk(ca, "delete_call_action", action_id)
    h.expect_error(ca, "get_call_action", NotFoundError, 404, "Call action not found", action_id)
    h.step(f"call_actions create / list / get / update / delete; a trigger without its phone field raises {e.body!r}")


def prompt_scoring_steps(client, agent_id, version_id, h):
    ps = client.atoms.prompt_scoring
    e = h.expect_error(ps, "score_a_prompt", BadRequestError, 400, "No prompt found", request={"versionId": version_id})
    drafts = client.atoms.agent_versioning_drafts
    created, _ = h.sdk(drafts, "create_draft", agent_id, source_version_id=version_id, draft_name="sdk scored")
    draft_id = created.data.draft_id
    prompt = "# Role\nYou are Maya, a support agent for Acme.\n# Objective\nHelp callers fix their internet.\n# Rules\n- Never share passwords."
    h.sdk(drafts, "update_draft_config", agent_id, draft_id, single_prompt_config={"prompt": prompt})
    _, raw = h.sdk(ps, "score_a_prompt", request={"draftId": draft_id})
    h.check(len(raw["data"]["dimensions"]) == 11, f"score_a_prompt: {raw}")
    h.expect_error(ps, "score_a_prompt", BadRequestError, 400, "Prompt has not changed", request={"draftId": draft_id})
    h.sdk(drafts, "discard_draft", agent_id, draft_id)
    h.step(f"prompt_scoring.score_a_prompt(draftId) -> {raw['data']['overall_score']} {raw['data']['overall_grade']}; "
           f"unchanged raises 400; a version without a prompt raises {e.body!r}")


def widget_steps(client, agent_id, h):
    agents = client.atoms.agents
    _, raw = h.sdk(agents, "get_agent_widget_config", agent_id)
    h.check(raw["data"]["assistantId"] == agent_id, f"get_agent_widget_config: {raw}")
    _, raw = h.sdk(agents, "update_agent_widget_config", agent_id, widget_config={"borderRadius": 12})
    h.check(raw["data"]["borderRadius"] == 12, f"update_agent_widget_config: {raw}")
    _, raw = h.sdk(agents, "get_agent_avatar_presigned_url", agent_id, file_name="me.png", content_type="image/png",
                   file_size=1024)
    h.check(raw["data"]["cdnUrl"].startswith(h.ROOT), f"get_agent_avatar_presigned_url: {raw}")
    h.step("agents widget: get / update_agent_widget_config / get_agent_avatar_presigned_url")


def integration_steps(client, h):
    it = client.atoms.integrations
    _, raw = h.sdk(it, "get_web_engage_details")
    h.check(raw["data"]["integrationSets"] == [], f"get_web_engage_details: {raw}")
    sets = [{"licenseCode": "lc", "environment": "us", "apiKey": "k"}]
    _, raw = h.sdk(it, "modify_web_engage_integration", integration_sets=sets)
    h.check(raw["message"] == "Integration created successfully", f"modify_web_engage_integration: {raw}")
    _, raw = h.sdk(it, "get_web_engage_details")
    h.check(raw["data"]["integrationSets"][0]["licenseCode"] == "lc", f"get_web_engage_details: {raw}")
    h.step("integrations.modify_web_engage_integration / get_web_engage_details")


def steps(client, agent_id, version_id, h):
    knowledge_base_steps(client, h)
    call_action_steps(client, agent_id, h)
    prompt_scoring_steps(client, agent_id, version_id, h)
    widget_steps(client, agent_id, h)
    integration_steps(client, h)
