"""The handoff actions ask for the area only when needed and remember the request."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionAreaNoted, ActionHandoff


def tracker(text, intent, slots=None, entities=(), ranking=()):
    message = {
        "text": text,
        "intent": {"name": intent},
        "entities": [{"entity": "area", "value": v} for v in entities],
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }
    return Tracker("parent", slots or {}, message, [], False, None, {}, "")


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_sendias_without_area_asks_and_remembers():
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(
        dispatcher, tracker("can someone help me with the forms", "talk_to_someone"), {}
    )
    # What SENDIAS is comes at once; the local contact needs the area.
    assert "SENDIAS" in dispatcher.messages[0]["text"]
    assert "impartial" in dispatcher.messages[0]["text"]
    assert "Which area are you in?" in dispatcher.messages[1]["text"]
    payloads = [b["payload"] for b in dispatcher.messages[1]["buttons"]]
    assert '/inform_area{"area": "cornwall"}' in payloads
    assert slots_of(events)["handoff_kind"] == "sendias"


def test_area_given_late_finishes_the_waiting_handoff():
    dispatcher = CollectingDispatcher()
    events = ActionAreaNoted().run(
        dispatcher,
        tracker(
            "Banbury",
            "inform_area",
            {"handoff_kind": "sendias", "area": "oxfordshire"},
            entities=["oxfordshire"],
        ),
        {},
    )
    text = " ".join(m["text"] for m in dispatcher.messages)
    assert "01865 810516" in text
    assert slots_of(events) == {"area": "oxfordshire", "handoff_kind": None, "handoff_text": None}


def test_a_place_we_do_not_know_is_somewhere_else():
    dispatcher = CollectingDispatcher()
    events = ActionAreaNoted().run(dispatcher, tracker("we're in Leeds", "inform_area"), {})
    assert slots_of(events)["area"] == "elsewhere"
    assert "your area" in dispatcher.messages[0]["text"]


def test_senss_complaint_needs_no_area():
    dispatcher = CollectingDispatcher()
    ActionHandoff().run(
        dispatcher,
        tracker(
            "the advisory teacher from the Oxfordshire support service never turned up, "
            "who do I tell?",
            "complain",
        ),
        {},
    )
    text = " ".join(m["text"] for m in dispatcher.messages)
    assert "01865 323070" in text and "senss@oxfordshire.gov.uk" in text


def test_a_handoff_that_also_asks_a_question_gets_the_answer_first(knowledge_index):
    from bot.knowledge.search import Retriever

    dispatcher = CollectingDispatcher()
    events = ActionHandoff(Retriever(knowledge_index)).run(
        dispatcher,
        tracker(
            "do i have to do mediation before going to tribunal",
            "talk_to_someone",
            {"area": "oxfordshire"},
        ),
        {},
    )
    texts = [m["text"] for m in dispatcher.messages]
    assert "mediation" in texts[0].lower()
    assert texts[1].startswith("Source:") and dispatcher.messages[1]["custom"]["source"]
    # Staff see why (the console reads the explanation): the intent and candidates.
    explained = dispatcher.messages[1]["custom"]["explanation"]
    assert explained["intent"] == "talk_to_someone" and explained["kind"] == "knowledge"
    assert (
        explained["candidates"][0]["article"]
        == dispatcher.messages[1]["custom"]["source"]["article"]
    )
    # ... and then the people, as before.
    assert any("01865 810516" in t for t in texts[2:])
    assert slots_of(events)["last_article"]


def test_a_request_for_a_person_gets_the_people_alone(knowledge_index):
    from bot.knowledge.search import Retriever

    dispatcher = CollectingDispatcher()
    ActionHandoff(Retriever(knowledge_index)).run(
        dispatcher,
        tracker(
            "i would like to talk to someone about my sons ehcp",
            "talk_to_someone",
            {"area": "oxfordshire"},
        ),
        {},
    )
    texts = [m["text"] for m in dispatcher.messages]
    assert not any(t.startswith("Source:") for t in texts)
    assert any("01865 810516" in t for t in texts)


def test_a_handoff_asking_for_another_services_details_gets_them(knowledge_index):
    from bot.knowledge.search import Retriever

    dispatcher = CollectingDispatcher()
    events = ActionHandoff(Retriever(knowledge_index)).run(
        dispatcher,
        tracker("what email do i use to give SENSS some feedback?", "talk_to_someone"),
        {},
    )
    (message,) = dispatcher.messages
    assert "senss@oxfordshire.gov.uk" in message["text"]
    assert message["custom"]["contacts"] == ["senss_oxfordshire"]
    assert slots_of(events) == {"handoff_kind": None, "handoff_text": None}


def test_a_request_for_a_person_that_names_a_services_phone_gets_its_details(knowledge_index):
    from bot.knowledge.search import Retriever

    # Not a question, and no article answers it closely: still that service's
    # details, not SENDIAS's.
    dispatcher = CollectingDispatcher()
    ActionHandoff(Retriever(knowledge_index)).run(
        dispatcher,
        tracker(
            "phone number for SENSS please, I want to speak to someone senior", "talk_to_someone"
        ),
        {},
    )
    (message,) = dispatcher.messages
    assert "01865 323070" in message["text"]
    assert message["custom"]["contacts"] == ["senss_oxfordshire"]


def test_a_long_message_with_a_place_that_asks_nothing_gets_a_reply_to_it(knowledge_index):
    from bot.knowledge.search import Retriever

    # Ten words and more is a question, asked in so many words or not: not "What
    # would you like to know?" after someone has told what is wrong.
    taxi = (
        "A taxi from Oxford station to Headington charged me 38 pounds for a ten minute "
        "ride. That's a rip off and the driver was rude"
    )
    heard = [("inform_area", 0.73), ("complain", 0.1), ("out_of_scope", 0.05)]
    dispatcher = CollectingDispatcher()
    events = ActionAreaNoted(Retriever(knowledge_index)).run(
        dispatcher, tracker(taxi, "inform_area", entities=["oxfordshire"], ranking=heard), {}
    )
    assert slots_of(events)["area"] == "oxfordshire"
    texts = [m.get("text") or "" for m in dispatcher.messages]
    assert not any("What would you like to know?" in t for t in texts)
    assert events[-1]["name"] == "action_answer_from_knowledge" or dispatcher.messages[-1][
        "response"
    ] in ("utter_unsure", "utter_out_of_scope")


def test_a_question_naming_a_place_is_answered_with_that_area(knowledge_index):
    from bot.knowledge.search import Retriever

    events = ActionAreaNoted(Retriever(knowledge_index)).run(
        CollectingDispatcher(),
        tracker(
            "what help can the specialist teachers in High Wycombe give our school?",
            "inform_area",
            entities=["buckinghamshire"],
        ),
        {},
    )
    assert slots_of(events) == {"area": "buckinghamshire"}
    assert events[-1] == {
        "event": "followup",
        "timestamp": None,
        "name": "action_answer_from_knowledge",
    }


def test_a_place_alone_or_a_question_with_no_answer_is_only_noted(knowledge_index):
    from bot.knowledge.search import Retriever

    for text in ("we live just outside High Wycombe", "is the swimming pool in Truro open today?"):
        dispatcher = CollectingDispatcher()
        events = ActionAreaNoted(Retriever(knowledge_index)).run(
            dispatcher, tracker(text, "inform_area", entities=["cornwall"]), {}
        )
        assert all(e.get("event") == "slot" for e in events), text
        assert "What would you like to know?" in dispatcher.messages[0]["text"], text


def test_a_request_worded_for_a_person_that_the_articles_answer_closely_gets_the_answer(
    knowledge_index,
):
    from bot.knowledge.search import Retriever

    dispatcher = CollectingDispatcher()
    ActionHandoff(Retriever(knowledge_index)).run(
        dispatcher,
        tracker(
            # "person" is a request for one (asks_a_question_too says no)
            "we told the mediation person we dont want it, how soon does the certificate come "
            "through",
            "talk_to_someone",
            {"area": "oxfordshire"},
        ),
        {},
    )
    texts = [m["text"] for m in dispatcher.messages]
    assert "certificate" in texts[0] and texts[1].startswith("Source:")
    assert any("01865 810516" in t for t in texts[2:])  # then the people, as before


def test_a_question_naming_a_place_on_a_subject_no_article_covers_says_so(knowledge_index):
    from bot.knowledge.search import Retriever

    # Swansea is no area of ours ("elsewhere"), and the articles are about England:
    # the knowledge action says it can't help with that subject, not "What would
    # you like to know?".
    events = ActionAreaNoted(Retriever(knowledge_index)).run(
        CollectingDispatcher(),
        tracker("we just moved to swansea, how does the ALN system work in wales", "inform_area"),
        {},
    )
    assert slots_of(events) == {"area": "elsewhere"}
    assert events[-1]["name"] == "action_answer_from_knowledge"


def test_a_request_for_help_with_a_subject_no_article_covers_says_so(knowledge_index):
    from bot.knowledge.search import Retriever

    dispatcher = CollectingDispatcher()
    events = ActionHandoff(Retriever(knowledge_index)).run(
        dispatcher,
        tracker("can someone help me fill in the DLA form for my daughter", "talk_to_someone"),
        {},
    )
    (message,) = dispatcher.messages
    assert message["response"] == "utter_not_covered"
    assert "DLA" in message["subject"]
    assert slots_of(events) == {"handoff_kind": None, "handoff_text": None}


def test_a_complaint_about_a_school_is_not_told_how_to_complain_about_senss(knowledge_index):
    from bot.knowledge.search import Retriever

    dispatcher = CollectingDispatcher()
    ActionHandoff(Retriever(knowledge_index)).run(
        dispatcher,
        tracker(
            'they put my daughter on a part time timetable "temporarily" in january. its now '
            "june and i never agreed to it in writing. i want to complain, who to?",
            "complain",
        ),
        {},
    )
    texts = [m["text"] for m in dispatcher.messages]
    assert not any("SENSS" in t for t in texts)
    assert any("complaints policy" in t for t in texts)  # the school's route, at once


def test_a_question_with_a_place_that_is_out_of_scope_says_what_the_assistant_is_for(
    knowledge_index,
):
    from bot.knowledge.search import Retriever

    surf = "Is the surf any good in Newquay this weekend? Thinking of taking the kids"
    heard = [("inform_area", 0.79), ("out_of_scope", 0.14), ("greet", 0.01)]
    dispatcher = CollectingDispatcher()
    events = ActionAreaNoted(Retriever(knowledge_index)).run(
        dispatcher, tracker(surf, "inform_area", entities=["cornwall"], ranking=heard), {}
    )
    assert slots_of(events)["area"] == "cornwall"
    kept, declined = dispatcher.messages
    assert "Cornwall" in kept["text"] and "What would you like to know?" not in kept["text"]
    assert declined["response"] == "utter_out_of_scope"


def test_a_longer_question_with_a_place_that_nothing_answers_is_declined_not_noted(
    knowledge_index,
):
    from bot.knowledge.search import Retriever

    hairdresser = (
        "Can anyone recommend a hairdresser in Falmouth who is patient with a 6 year old "
        "who hates noise? The busy ones are far too loud for him"
    )
    heard = [("inform_area", 0.68), ("sen_vs_disability", 0.07), ("raise_concern", 0.05)]
    dispatcher = CollectingDispatcher()
    events = ActionAreaNoted(Retriever(knowledge_index)).run(
        dispatcher, tracker(hairdresser, "inform_area", entities=["cornwall"], ranking=heard), {}
    )
    assert slots_of(events)["area"] == "cornwall"
    kept, declined = dispatcher.messages
    assert "What would you like to know?" not in kept["text"]
    assert declined["response"] in ("utter_unsure", "utter_out_of_scope")


def test_a_message_with_a_place_on_a_subject_no_article_covers_says_so_even_unasked(
    knowledge_index,
):
    from bot.knowledge.search import Retriever

    # Neither says it with a question word or ends with "?", and neither is "where I
    # live, what would you like to know?": the knowledge action names the subject.
    for text, place in (
        (
            "Our bins in Bicester haven't been collected for three weeks. I need a real person",
            "oxfordshire",
        ),
        ("Blue Badge for my son?? Aylesbury", "buckinghamshire"),
        # Shorter than a question, but a word names the subject.
        ("free school meals oxford", "oxfordshire"),
        ("blue badge bucks", "buckinghamshire"),
    ):
        dispatcher = CollectingDispatcher()
        events = ActionAreaNoted(Retriever(knowledge_index)).run(
            dispatcher, tracker(text, "inform_area", entities=[place]), {}
        )
        assert slots_of(events)["area"] == place
        assert events[-1]["name"] == "action_answer_from_knowledge", text
        assert dispatcher.messages == []


def test_a_complaint_about_a_service_no_article_covers_says_so_not_the_school_route(
    knowledge_index,
):
    from bot.knowledge.search import Retriever

    dispatcher = CollectingDispatcher()
    ActionHandoff(Retriever(knowledge_index)).run(
        dispatcher,
        tracker(
            "The receptionist at our GP surgery was really rude to me on the phone this "
            "morning. I want to make a formal complaint.",
            "complain",
            slots={"area": "buckinghamshire"},
        ),
        {},
    )
    (message,) = dispatcher.messages
    assert message["response"] == "utter_not_covered"
    assert "GP" in message["subject"]


def test_a_complaint_naming_only_a_body_no_article_covers_names_it(knowledge_index):
    from bot.knowledge.search import Retriever

    # Named by its word ("police", "leisure centre"), with no school, council or
    # SENSS in it: not a school's complaint steps, whatever the similarity.
    for text, subject in (
        ("I want to complain about how a police officer spoke to me last week", "police"),
        (
            (
                "The leisure centre pool won't let my autistic son use the family changing "
                "room with me. Who do I complain to about this?"
            ),
            "leisure",
        ),
    ):
        dispatcher = CollectingDispatcher()
        ActionHandoff(Retriever(knowledge_index)).run(
            dispatcher, tracker(text, "complain", slots={"area": "oxfordshire"}), {}
        )
        (message,) = dispatcher.messages
        assert message["response"] == "utter_not_covered", text
        assert subject in message["subject"]
    # A complaint naming the school as well keeps the school's route.
    dispatcher = CollectingDispatcher()
    ActionHandoff(Retriever(knowledge_index)).run(
        dispatcher,
        tracker(
            "I want to complain that the school called the police on my autistic son",
            "complain",
            slots={"area": "oxfordshire"},
        ),
        {},
    )
    assert any("complaints policy" in (m.get("text") or "") for m in dispatcher.messages)


def test_a_complaint_about_another_service_that_no_word_names_is_declined_as_out_of_scope(
    knowledge_index,
):
    from bot.knowledge.search import Retriever

    # No school, council or SENSS, and no word naming a subject no article covers:
    # the question's meaning alone reads as another subject, so not a school's
    # complaint steps ("For a complaint about a school...") but what the assistant is for.
    for text in (
        "broadband been down 4 days and my provider keeps fobbing me off, i want to complain",
        "I want to complain about my mobile phone contract, the shop won't let me cancel it",
    ):
        dispatcher = CollectingDispatcher()
        ActionHandoff(Retriever(knowledge_index)).run(
            dispatcher, tracker(text, "complain", slots={"area": "cornwall"}), {}
        )
        (message,) = dispatcher.messages
        assert message["response"] == "utter_out_of_scope", text
        explained = message["custom"]["explanation"]
        assert explained["reason"] == "a complaint about something else"
