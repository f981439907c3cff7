"""Issue 14, item 10: the flag step asks for the responsible person and the target date; a bulk edit of
selected mandates (one transaction, audited); merging two mandates keeps the lower number."""
import datetime as dt

import pytest
import sqlalchemy as sa


@pytest.fixture
def three(db, reference, users, make_appeal, make_directive):
    from appeals.mandates import flagging

    directive = make_directive(valid_from=dt.date(2026, 1, 1), issued_on=dt.date(2026, 1, 1))
    appeals = [make_appeal(office=reference.kordai, received_at=dt.datetime(2026, 10, 5 + n, 10)) for n in range(3)]
    mandates = [flagging.flag_appeals(directive, [a.id], users.coordinator)[0] for a in appeals]
    return directive, appeals, mandates


def test_the_flag_step_sets_responsible_and_target(db, reference, users, make_appeal, make_directive):
    from appeals.mandates import directives, flagging

    directive = make_directive(valid_from=dt.date(2026, 1, 1), issued_on=dt.date(2026, 1, 1))
    appeal = make_appeal(office=reference.kordai, received_at=dt.datetime(2026, 10, 5, 10))
    with pytest.raises(directives.MandateError) as past:
        flagging.flag_appeals(directive, [appeal.id], users.coordinator, target_date="2020-01-01",
                              responsible_user_id=999999)
    assert set(past.value.errors) == {"target_date", "responsible_user_id"}
    mandate = flagging.flag_appeals(directive, [appeal.id], users.coordinator, target_date="2027-03-01",
                                    responsible_user_id=users.clerk.id)[0]
    assert mandate.target_date == dt.date(2027, 3, 1) and mandate.responsible_user_id == users.clerk.id


def test_the_flag_page_asks_for_both(db, client, login, reference, users, make_appeal, make_directive):
    from appeals.mandates.models import Mandate

    directive = make_directive(valid_from=dt.date(2026, 1, 1), issued_on=dt.date(2026, 1, 1))
    appeal = make_appeal(office=reference.kordai, received_at=dt.datetime(2026, 10, 5, 10))
    login(users.coordinator)
    url = f"/directives/{directive.id}/candidates"
    review = client.post(url, data={"appeal_id": appeal.id, "step": "review"}).get_data(as_text=True)
    assert 'name="responsible_user_id"' in review and 'name="target_date"' in review
    bad = client.post(url, data={"appeal_id": appeal.id, "step": "flag", "target_date": "2020-01-01",
                                 "responsible_user_id": users.clerk.id})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Mandate)) == 0
    done = client.post(url, data={"appeal_id": appeal.id, "step": "flag", "target_date": "2027-02-01",
                                  "responsible_user_id": users.clerk.id})
    assert done.status_code == 302
    mandate = db.session.scalar(sa.select(Mandate))
    assert mandate.target_date == dt.date(2027, 2, 1) and mandate.responsible_user_id == users.clerk.id


def test_bulk_edit_changes_all_or_none_and_audits_each(db, client, login, reference, users, three):
    from appeals.core.audit import AuditRecord
    from appeals.mandates import bulk, directives
    from appeals.mandates.models import Mandate

    _directive, _appeals, mandates = three
    ids = [m.id for m in mandates]
    changed = bulk.bulk_update_mandates(ids, {"responsible_user_id": users.clerk.id, "target_date": "2027-01-15",
                                              "status": "in_progress"}, users.coordinator)
    assert len(changed) == 3
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Mandate).order_by(Mandate.id)).all()
    assert {(m.responsible_user_id, m.target_date, m.status) for m in rows} == {
        (users.clerk.id, dt.date(2027, 1, 15), "in_progress")}
    audited = db.session.scalars(sa.select(AuditRecord.object_id).where(AuditRecord.action == "mandate.update")).all()
    assert sorted(int(i) for i in audited) == sorted(ids)
    # One refuses (fulfilled cannot go to partly fulfilled): nothing changes, and it is named.
    bulk.bulk_update_mandates([ids[0]], {"status": "fulfilled"}, users.coordinator)
    with pytest.raises(directives.MandateError) as refused:
        bulk.bulk_update_mandates(ids, {"status": "partially_fulfilled", "target_date": "2027-05-05"},
                                  users.coordinator)
    assert mandates[0].number in refused.value.message
    db.session.expire_all()
    assert [m.status for m in db.session.scalars(sa.select(Mandate).order_by(Mandate.id))] == [
        "fulfilled", "in_progress", "in_progress"]
    assert all(m.target_date == dt.date(2027, 1, 15) for m in db.session.scalars(sa.select(Mandate)))
    # Through the list page.
    login(users.coordinator)
    page = client.get("/mandates").get_data(as_text=True)
    assert 'id="bulk-form"' in page and f'name="mandate_id" value="{ids[1]}"' in page
    response = client.post("/mandates/bulk", data={"mandate_id": ids[1:], "target_date": "2027-06-30"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Mandate, ids[2]).target_date == dt.date(2027, 6, 30)
    # A viewer sees no bulk form and may not post one.
    client.post("/logout")
    login(users.viewer)
    assert 'id="bulk-form"' not in client.get("/mandates").get_data(as_text=True)
    assert client.post("/mandates/bulk", data={"mandate_id": ids, "status": "fulfilled"}).status_code == 403


def test_bulk_edit_stays_in_the_region(db, reference, users, three, make_user):
    from appeals.mandates import bulk, directives
    from appeals.reference.models import Office, Region

    south = Region(code="TUR", name_kk="Түркістан облысы", name_ru="Туркестанская область")
    db.session.add_all([south, Office(code="TKM", name_kk="Түркістан", name_ru="Туркестан", kind="regional",
                                      region=south)])
    db.session.commit()
    outsider = make_user("coord.south", "coordinator", region_code="TUR")
    with pytest.raises(directives.MandateError):
        bulk.bulk_update_mandates([three[2][0].id], {"status": "in_progress"}, outsider)


def test_merging_keeps_the_lower_number_and_moves_the_links(db, client, login, reference, users, three, make_appeal):
    from appeals.core.audit import AuditRecord
    from appeals.mandates import bulk, directives, flagging
    from appeals.mandates.models import Mandate, MandateAppeal
    from appeals.reports import statistics

    directive, appeals, mandates = three
    low, high = mandates[0], mandates[2]
    before = statistics.mandate_report_figures(dt.date(2026, 1, 1), dt.date(2026, 12, 31))["total"]
    keeper = bulk.merge_mandates(high, low, users.coordinator)  # either order: the lower number stays
    assert keeper.id == low.id
    db.session.expire_all()
    high = db.session.get(Mandate, high.id)
    assert high.status == "withdrawn" and high.merged_into_id == low.id and low.number in high.withdrawn_reason
    links = db.session.scalars(sa.select(MandateAppeal).where(MandateAppeal.removed_at.is_(None))
                               .order_by(MandateAppeal.appeal_id)).all()
    assert {link.appeal_id: link.mandate_id for link in links}[appeals[2].id] == low.id
    assert statistics.mandate_report_figures(dt.date(2026, 1, 1), dt.date(2026, 12, 31))["total"] == before - 1
    actions = set(db.session.scalars(sa.select(AuditRecord.action).where(AuditRecord.action.like("mandate.merged%"))))
    assert actions == {"mandate.merged", "mandate.merged_into"}
    with pytest.raises(directives.MandateError):
        bulk.merge_mandates(low, high, users.coordinator)  # already merged
    # The merged number is never given again: the next mandate of the directive gets a new one.
    fresh = flagging.flag_appeals(directive, [make_appeal(office=reference.kordai).id], users.coordinator)[0]
    assert fresh.number not in {low.number, high.number, mandates[1].number}
    assert db.session.get(Mandate, high.id).number == high.number
    # The merged mandate's page says where it went.
    login(users.coordinator)
    page = client.get(f"/mandates/{high.id}").get_data(as_text=True)
    assert f'data-merged-into="{low.number}"' in page


def test_merge_through_the_page_and_refusals(db, client, login, reference, users, three, make_directive,
                                             make_appeal):
    from appeals.mandates import bulk, directives, flagging
    from appeals.mandates.models import Mandate

    directive, appeals, mandates = three
    other_directive = make_directive(number="99-Д", valid_from=dt.date(2026, 1, 1), issued_on=dt.date(2026, 1, 1))
    elsewhere = flagging.flag_appeals(other_directive, [appeals[0].id], users.coordinator)[0]
    with pytest.raises(directives.MandateError):
        bulk.merge_mandates(mandates[1], elsewhere, users.coordinator)
    with pytest.raises(directives.MandateError):
        bulk.merge_mandates(mandates[1], mandates[1], users.coordinator)
    login(users.coordinator)
    form = client.get(f"/mandates/{mandates[1].id}/combine").get_data(as_text=True)
    assert mandates[0].number in form and elsewhere.number not in form
    response = client.post(f"/mandates/{mandates[1].id}/combine", data={"other_id": mandates[0].id})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/mandates/{mandates[0].id}")
    db.session.expire_all()
    assert db.session.get(Mandate, mandates[1].id).merged_into_id == mandates[0].id
    client.post("/logout")
    login(users.viewer)
    assert client.get(f"/mandates/{mandates[2].id}/combine").status_code == 403
