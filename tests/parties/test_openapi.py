"""Each simulator process holds to its party's OpenAPI document in data/openapi, for any input.

The documents are the protocols a carrier's gateway implements: generated requests, valid
and invalid, must get answers the document describes (never a 5xx but the documented 503).
"""

from __future__ import annotations

import pytest

from activation.settings import DATA_DIR

from .conftest import TOKEN

DOCUMENTS = {
    party: DATA_DIR / "openapi" / f"{party}.yaml"
    for party in ("bureau", "pvs", "billing", "e911", "warehouse")
}


@pytest.mark.parametrize("party", sorted(DOCUMENTS))
def test_the_document_is_openapi_3_and_names_the_party_s_settings(party: str) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    document = schemathesis.openapi.from_path(str(DOCUMENTS[party])).raw_schema
    assert document["openapi"].startswith("3.")
    assert f"CAS_{party.upper()}_URL" in document["info"]["description"]
    assert {"bearerAuth", "basicAuth"} <= set(document["components"]["securitySchemes"])


@pytest.mark.slow
@pytest.mark.parametrize("party", sorted(DOCUMENTS))
def test_the_simulator_answers_as_its_document_says_for_any_generated_input(party, sims):  # type: ignore[no-untyped-def]
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_path(str(DOCUMENTS[party]))
    url = sims[party].url
    headers = {"Authorization": f"Bearer {TOKEN}"}
    sent: list[tuple[str, str, int]] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=20,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case) -> None:  # type: ignore[no-untyped-def]
                response = case.call(base_url=url, headers=headers, timeout=15)
                assert response.status_code < 500, (case.method, case.path, response.text)
                # A schema-valid request may still be refused with a documented 422: an address
                # 911 calls cannot be routed to, a key sent again with another request.
                case.validate_response(
                    response, headers=headers, excluded_checks=[positive_data_acceptance]
                )
                if response.status_code == 422:
                    assert response.json()["error"] in (
                        "address_not_valid",
                        "idempotency_key_reused",
                    )
                sent.append((case.method, case.path, response.status_code))

            check()
    assert len(sent) >= 20 * len(list(schema.get_all_operations()))
    assert any(400 <= status < 500 for _, _, status in sent)
