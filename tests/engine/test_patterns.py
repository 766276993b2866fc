"""One definition and scenario per workflow-control pattern (Russell et al., 2006).

Each test draws its workflow in the docstring, then plays it the way an agency
would. Numbers are the WCP numbers of the workflow patterns catalogue.
"""

from __future__ import annotations

from tests.engine.programs import passes, play, program

ACTORS = "actors: {ana: clerk, ben: clerk, rita: reviewer, sam: supervisor, max: manager, bo: board_member, bea: board_member, bill: board_member}"


def test_wcp01_sequence_and_wcp43_explicit_termination():
    """intake -> review -> approved (end)"""
    definition = program(
        """
        start: intake
        steps:
          intake: {kind: task, title: {en: Intake}, role: clerk, outcomes: {done: review}}
          review: {kind: approval, title: {en: Review}, role: reviewer, outcomes: {approve: approved, deny: denied}}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """
    )
    passes(
        definition,
        f"""
        answers: {{name: Ana}}
        {ACTORS}
        do:
          - expect task: intake
          - ana completes intake: done
          - expect task: review
          - rita completes review: approve
        expect:
          outcome: approved
          path: [intake, review, approved]
        """,
    )


def test_wcp02_parallel_split_and_wcp03_synchronization():
    """split -> (check_id | check_income) -> join(all) -> decide"""
    definition = program(
        """
        start: split
        steps:
          split: {kind: parallel, branches: [check_id, check_income]}
          check_id: {kind: task, title: {en: Check ID}, role: clerk, outcomes: {done: both}}
          check_income: {kind: task, title: {en: Check income}, role: reviewer, outcomes: {done: both}}
          both: {kind: join, joins: split, wait for: all, next: finished}
          finished: {kind: end, outcome: checked}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - expect task: [check_id, check_income]
          - ana completes check_id: done
          - expect task: check_income
          - expect outcome: null
          - rita completes check_income: done
        expect:
          outcome: checked
        """,
    )


def test_wcp04_exclusive_choice_and_wcp05_simple_merge():
    """screen decides on income: low -> fast_track, else -> full_review; both merge into notify"""
    workflow = """
        start: screen
        steps:
          screen:
            kind: decide
            routes:
              - {when: income < 2500, to: fast_track}
              - {to: full_review}
          fast_track: {kind: action, set: {track: "'fast'"}, next: notify}
          full_review: {kind: action, set: {track: "'full'"}, next: notify}
          notify: {kind: end, outcome: screened}
        """
    definition = program(workflow)
    low = passes(definition, "answers: {income: 1200}\nexpect: {outcome: screened, data: {track: fast}}")
    high = passes(definition, "answers: {income: 9000}\nexpect: {outcome: screened, data: {track: full}}")
    assert low.state is not None
    assert "fast_track" in low.state.path
    assert high.state is not None
    assert "full_review" in high.state.path


def test_wcp06_multi_choice_and_wcp07_structured_synchronizing_merge():
    """inclusive split: only the checks whose conditions hold start; the join waits for exactly those"""
    definition = program(
        """
        start: checks
        steps:
          checks:
            kind: parallel
            branches:
              - {when: age >= 65, to: senior_check}
              - {when: income > 5000, to: income_check}
              - {when: urgent, to: urgent_check}
          senior_check: {kind: task, title: {en: Senior}, role: clerk, outcomes: {done: merge}}
          income_check: {kind: task, title: {en: Income}, role: clerk, outcomes: {done: merge}}
          urgent_check: {kind: task, title: {en: Urgent}, role: clerk, outcomes: {done: merge}}
          merge: {kind: join, joins: checks, next: done}
          done: {kind: end, outcome: checked}
        """
    )
    passes(
        definition,
        f"""
        answers: {{age: 70, income: 9000, urgent: false}}
        {ACTORS}
        do:
          - expect tasks: {{senior_check: 1, income_check: 1, urgent_check: 0}}
          - ana completes senior_check: done
          - expect outcome: null
          - ana completes income_check: done
        expect: {{outcome: checked}}
        """,
    )
    passes(
        definition,
        f"answers: {{age: 30, income: 100, urgent: true}}\n{ACTORS}\ndo:\n  - ana completes urgent_check: done\nexpect: {{outcome: checked}}",
    )
    # No branch holds: the case goes straight past the merge.
    passes(definition, "answers: {age: 30, income: 100, urgent: false}\nexpect: {outcome: checked}")


def test_wcp09_structured_discriminator_absorbs_the_later_branches():
    """first of three reviewers to answer moves the case on; the others still finish, absorbed"""
    definition = program(
        """
        start: ask
        steps:
          ask: {kind: parallel, branches: [ask_a, ask_b, ask_c]}
          ask_a: {kind: task, title: {en: A}, role: clerk, outcomes: {done: first}}
          ask_b: {kind: task, title: {en: B}, role: clerk, outcomes: {done: first}}
          ask_c: {kind: task, title: {en: C}, role: clerk, outcomes: {done: first}}
          first: {kind: join, joins: ask, wait for: first, next: log}
          log: {kind: task, title: {en: Log}, role: supervisor, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana completes ask_b: done
          - expect tasks: {{log: 1, ask_a: 1, ask_c: 1}}
          - ana completes ask_a: done
          - ana completes ask_c: done
          - expect tasks: {{log: 1}}
          - sam completes log: done
        expect: {{outcome: done}}
        """,
    )


def test_wcp29_cancelling_discriminator_and_wcp30_partial_join():
    workflow = """
        start: ask
        steps:
          ask: {{kind: parallel, branches: [ask_a, ask_b, ask_c]}}
          ask_a: {{kind: task, title: {{en: A}}, role: clerk, outcomes: {{done: enough}}}}
          ask_b: {{kind: task, title: {{en: B}}, role: clerk, outcomes: {{done: enough}}}}
          ask_c: {{kind: task, title: {{en: C}}, role: clerk, outcomes: {{done: enough}}}}
          enough: {{kind: join, joins: ask, wait for: {wait}, cancel rest: {cancel}, next: finished}}
          finished: {{kind: end, outcome: done}}
        """
    cancelling = program(workflow.format(wait="first", cancel="true"))
    passes(
        cancelling,
        f"answers: {{}}\n{ACTORS}\ndo:\n  - ana completes ask_c: done\n  - expect no task\nexpect: {{outcome: done}}",
    )
    two_of_three = program(workflow.format(wait=2, cancel="false"))
    passes(
        two_of_three,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana completes ask_a: done
          - expect outcome: null
          - ben completes ask_b: done
        expect: {{outcome: done}}
        """,
    )


def test_wcp28_blocking_discriminator_lets_one_round_through_at_a_time():
    """a loop re-runs the split; the blocking join fires once per round, after every branch of the round is in"""
    definition = program(
        """
        start: ask
        steps:
          ask: {kind: parallel, branches: [ask_a, ask_b]}
          ask_a: {kind: task, title: {en: A}, role: clerk, outcomes: {done: first}}
          ask_b: {kind: task, title: {en: B}, role: clerk, outcomes: {done: first}}
          first: {kind: join, joins: ask, wait for: first, block: true, next: count}
          count: {kind: action, set: {rounds: "rounds + 1"}, next: again}
          again:
            kind: decide
            routes:
              - {when: rounds < 2, to: ask}
              - {to: finished}
          finished: {kind: finish}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana completes ask_a: done
          - expect data: {{rounds: 1}}
          - expect tasks: {{ask_a: 1, ask_b: 2}}
          - ben completes ask_a: done
          - expect data: {{rounds: 1}}
          - ana completes ask_b: done
          - expect data: {{rounds: 2}}
          - ben completes ask_b: done
        expect: {{outcome: completed}}
        """,
    )


def test_wcp10_arbitrary_cycles_corrections_loop():
    """review -> corrections -> review ... until approved"""
    definition = program(
        """
        start: review
        steps:
          review:
            kind: approval
            title: {en: Review}
            role: reviewer
            outcomes: {approve: approved, return: corrections}
          corrections: {kind: task, title: {en: Corrections}, role: clerk, outcomes: {resubmit: review}}
          approved: {kind: end, outcome: approved}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - rita completes review: return
          - ana completes corrections: resubmit
          - rita completes review: return
          - ana completes corrections: resubmit
          - rita completes review: approve
        expect:
          outcome: approved
          path: [review, corrections, review, corrections, review, approved]
        """,
    )


def test_wcp11_implicit_termination_when_every_branch_finishes():
    definition = program(
        """
        start: split
        default outcome: all_done
        steps:
          split: {kind: parallel, branches: [a, b]}
          a: {kind: task, title: {en: A}, role: clerk, outcomes: {done: a_done}}
          b: {kind: task, title: {en: B}, role: clerk, outcomes: {done: b_done}}
          a_done: {kind: finish}
          b_done: {kind: finish}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana completes a: done
          - expect outcome: null
          - ana completes b: done
        expect: {{outcome: all_done}}
        """,
    )


def test_wcp12_multiple_instances_without_synchronization():
    """one courtesy call per office; the case goes on at once"""
    definition = program(
        """
        start: calls
        steps:
          calls:
            kind: each
            over: offices
            as: office
            wait for: none
            task: {title: {en: Call the office}, role: clerk, outcomes: [called]}
            next: review
          review: {kind: task, title: {en: Review}, role: reviewer, outcomes: {done: finished}}
          finished: {kind: finish}
        """
    )
    passes(
        definition,
        f"""
        answers: {{offices: [north, south]}}
        {ACTORS}
        do:
          - expect tasks: {{calls: 2, review: 1}}
          - rita completes review: done
          - expect tasks: {{calls: 2}}
          - ana completes calls: called
          - ana completes calls: called
        expect: {{outcome: completed}}
        """,
    )


def test_wcp13_multiple_instances_with_design_time_knowledge():
    definition = program(
        """
        start: signatures
        steps:
          signatures:
            kind: each
            count: 3
            task: {title: {en: Sign}, role: board_member, outcomes: [signed]}
            next: done
          done: {kind: end, outcome: signed}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - expect tasks: {{signatures: 3}}
          - bo completes signatures: signed
          - bea completes signatures: signed
          - expect outcome: null
          - bill completes signatures: signed
        expect:
          outcome: signed
          data: {{signatures.2.outcome: signed}}
        """,
    )


def test_wcp14_multiple_instances_with_runtime_knowledge_one_task_per_household_member():
    definition = program(
        """
        start: verify
        steps:
          verify:
            kind: each
            over: household.members
            as: member
            results: verified_members
            task: {title: {en: Verify member}, role: clerk, outcomes: [verified, not_verified]}
            next: decide
          decide:
            kind: decide
            routes:
              - {when: "all(verified_members, outcome == 'verified')", to: eligible}
              - {to: ineligible}
          eligible: {kind: end, outcome: eligible}
          ineligible: {kind: end, outcome: ineligible}
        """
    )
    household = "answers: {household: {members: [{name: Ana, age: 40}, {name: Bo, age: 9}, {name: Cy, age: 7}]}}"
    passes(
        definition,
        f"""
        {household}
        {ACTORS}
        do:
          - expect tasks: {{verify: 3}}
          - ana completes verify: verified
          - ana completes verify: verified
          - ben completes verify: verified
        expect:
          outcome: eligible
          data: {{verified_members.0.item.name: Ana, verified_members.0.position: 0, verified_members.2.by: ben}}
        """,
    )
    passes(
        definition,
        f"""
        {household}
        {ACTORS}
        do:
          - ana completes verify: verified
          - ana completes verify: not_verified
          - ana completes verify: verified
        expect: {{outcome: ineligible}}
        """,
    )
    # JSONLogic's all() is false for an empty list, so an empty household is not "all verified".
    passes(
        definition, "answers: {household: {members: []}}\nexpect: {outcome: ineligible, data: {verified_members: []}}"
    )


def test_wcp16_deferred_choice_between_an_event_and_a_timeout():
    definition = program(
        """
        start: wait_for_payment
        steps:
          wait_for_payment:
            kind: wait
            any of:
              - {event: payment_received, to: paid}
              - {after: 10 days, to: lapsed}
          paid: {kind: end, outcome: paid}
          lapsed: {kind: end, outcome: lapsed}
        """
    )
    passes(definition, "answers: {}\ndo:\n  - advance: 3 days\n  - event: payment_received\nexpect: {outcome: paid}")
    passes(definition, "answers: {}\ndo:\n  - advance: 11 days\nexpect: {outcome: lapsed}")


def test_wcp19_cancel_task_takes_the_cancelled_outcome_or_ends_the_branch():
    definition = program(
        """
        start: split
        steps:
          split: {kind: parallel, branches: [inspect, paperwork]}
          inspect: {kind: task, title: {en: Inspect}, role: clerk, outcomes: {done: joined, cancelled: joined}}
          paperwork: {kind: task, title: {en: Paperwork}, role: clerk, outcomes: {done: joined}}
          joined: {kind: join, joins: split, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - sam cancels inspect
          - expect tasks: {{inspect: 0, paperwork: 1}}
          - ana completes paperwork: done
        expect: {{outcome: done}}
        """,
    )


def test_wcp20_cancel_case_and_withdrawal_cancel_everything():
    definition = program(
        """
        start: split
        steps:
          split: {kind: parallel, branches: [a, b]}
          a: {kind: task, title: {en: A}, role: clerk, outcomes: {done: j}}
          b: {kind: task, title: {en: B}, role: clerk, outcomes: {done: j}}
          j: {kind: join, joins: split, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    cancelled = passes(
        definition, "answers: {}\ndo:\n  - cancel case: duplicate\n  - expect no task\nexpect: {outcome: cancelled}"
    )
    assert cancelled.state is not None
    assert cancelled.state.timers == ()
    passes(definition, "answers: {}\ndo:\n  - citizen withdraws\nexpect: {outcome: withdrawn}")


def test_approval_chain_goes_level_by_level_and_a_denial_stops_it():
    definition = program(
        """
        start: sign_off
        steps:
          sign_off:
            kind: approval
            title: {en: Sign off}
            levels: [reviewer, supervisor, manager]
            outcomes: {approve: approved, deny: denied}
          approved: {kind: end, outcome: approved}
          denied: {kind: end, outcome: denied}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - rita completes sign_off: approve
          - sam completes sign_off: approve
          - expect outcome: null
          - max completes sign_off: approve
        expect: {{outcome: approved}}
        """,
    )
    passes(
        definition,
        f"answers: {{}}\n{ACTORS}\ndo:\n  - rita completes sign_off: approve\n  - sam completes sign_off: deny\nexpect: {{outcome: denied}}",
    )
    wrong_role = play(definition, f"answers: {{}}\n{ACTORS}\ndo:\n  - sam completes sign_off: approve\n")
    assert any("sam is not a reviewer" in failure for failure in wrong_role.failures)


def test_parallel_panel_with_quorum_cancels_the_remaining_seats():
    workflow = """
        start: board
        steps:
          board:
            kind: approval
            title: {{en: Board vote}}
            role: board_member
            panel: {{size: 3, quorum: {quorum}}}
            outcomes: {{approve: approved, deny: denied}}
          approved: {{kind: end, outcome: approved}}
          denied: {{kind: end, outcome: denied}}
        """
    two_of_three = program(workflow.format(quorum=2))
    passes(
        two_of_three,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - expect tasks: {{board: 3}}
          - bo completes board: approve
          - bea completes board: approve
          - expect no task
        expect: {{outcome: approved, data: {{board.outcome: approve}}}}
        """,
    )
    passes(
        two_of_three,
        f"answers: {{}}\n{ACTORS}\ndo:\n  - bo completes board: deny\n  - bea completes board: deny\nexpect: {{outcome: denied}}",
    )
    unanimous = program(workflow.format(quorum="all"))
    passes(
        unanimous,
        f"answers: {{}}\n{ACTORS}\ndo:\n  - bo completes board: approve\n  - bea completes board: deny\n  - expect no task\nexpect: {{outcome: denied}}",
    )
    first = program(workflow.format(quorum="first"))
    passes(first, f"answers: {{}}\n{ACTORS}\ndo:\n  - bill completes board: approve\nexpect: {{outcome: approved}}")
    # One person cannot fill two seats.
    twice = play(
        two_of_three,
        f"answers: {{}}\n{ACTORS}\ndo:\n  - bo completes board: approve\n  - bo completes board: approve\n    expect error: separation_of_duties\n",
    )
    assert twice.failures == []


def test_separation_of_duties_and_retain_familiar():
    definition = program(
        """
        start: check
        steps:
          check: {kind: task, title: {en: Check}, role: clerk, outcomes: {done: review}}
          review: {kind: task, title: {en: Review}, role: clerk, same person as: check, outcomes: {done: approve}}
          approve:
            kind: approval
            title: {en: Approve}
            role: clerk
            not same person as: [check, review]
            outcomes: {approve: approved}
          approved: {kind: end, outcome: approved}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana completes check: done
          - ben completes review: done
            expect error: retain_familiar
          - ana completes review: done
          - ana completes approve: approve
            expect error: separation_of_duties
          - ben completes approve: approve
        expect: {{outcome: approved}}
        """,
    )


def test_delegation_reassignment_and_suspension():
    definition = program(
        """
        start: review
        steps:
          review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana claims review
          - ben completes review: done
            expect error: not_assignee
          - ana delegates review to ben
          - ben suspends review
          - ben completes review: done
            expect error: task_suspended
          - ben resumes review
          - sam reassigns review to ana
          - ana completes review: done
        expect: {{outcome: done}}
        """,
    )


def test_request_for_information_pauses_the_clock_reminds_and_times_out():
    definition = program(
        """
        start: review
        calendar: weekdays
        clocks:
          decision: {limit: 10 business days, paused while: waiting for citizen}
        steps:
          review:
            kind: task
            title: {en: Review}
            role: clerk
            outcomes: {complete: approved, missing: ask}
          ask:
            kind: request information
            title: {en: Send your pay slips}
            notice: request_documents
            remind after: 5 days
            reminder notice: reminder
            expires after: 10 days
            on answer: review
            on expiry: withdrawn
          approved: {kind: end, outcome: approved}
          withdrawn: {kind: end, outcome: withdrawn_no_answer}
        """,
        extra_files={
            "notices/request_documents.en.md": "# Please send your pay slips for {{ reference }}.",
            "notices/reminder.en.md": "# A reminder about {{ reference }}.",
        },
    )
    # Submitted Monday 2026-03-02; asked on Wednesday the 4th; answered Monday the 9th: paused 3 business days.
    passes(
        definition,
        f"""
        answers: {{}}
        submitted at: 2026-03-02T10:00:00-08:00
        {ACTORS}
        do:
          - expect deadline: {{decision: 2026-03-16}}
          - advance to: 2026-03-04T10:00:00-08:00
          - ana completes review: missing
          - expect notice: request_documents
          - advance to: 2026-03-09T10:00:00-07:00
          - expect notice: reminder
          - citizen answers ask: {{pay_slips: uploaded}}
          - expect deadline: {{decision: 2026-03-19}}
          - ana completes review: complete
        expect:
          outcome: approved
          data: {{ask.pay_slips: uploaded}}
        """,
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana completes review: missing
          - advance: 11 days
        expect: {{outcome: withdrawn_no_answer, notices to citizen: [request_documents, reminder]}}
        """,
    )


def test_a_statutory_clock_warns_and_escalates_before_breach():
    definition = program(
        """
        start: review
        calendar: weekdays
        clocks:
          decision: {limit: 10 business days, warn at: 8 business days, on warn: [hurry], on breach: [breach]}
        escalations:
          hurry: {notify: [supervisor], raise priority: high}
          breach: {notify: [manager], raise priority: urgent}
        steps:
          review: {kind: task, title: {en: Review}, role: clerk, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """,
        extra_files={"notices/escalation.en.md": "# Case {{ reference }} needs attention."},
    )
    early = passes(
        definition,
        "answers: {}\nsubmitted at: 2026-03-02T10:00:00-08:00\ndo:\n  - advance: 7 business days\nexpect: {priority: normal}",
    )
    assert not any("escalated" in line for line in early.trace)
    result = passes(
        definition,
        f"""
        answers: {{}}
        submitted at: 2026-03-02T10:00:00-08:00
        {ACTORS}
        do:
          - advance: 8 business days
          - expect notice to: {{supervisor: escalation}}
          - advance: 3 business days
          - expect notice to: {{manager: escalation}}
          - ana completes review: done
        expect: {{outcome: done, priority: urgent}}
        """,
    )
    assert result.state is not None


def test_task_deadline_escalates_when_overdue():
    definition = program(
        """
        start: review
        escalations:
          late: {notify: [supervisor]}
        steps:
          review: {kind: task, title: {en: Review}, role: clerk, due: 2 days, on overdue: late, outcomes: {done: finished}}
          finished: {kind: end, outcome: done}
        """,
        extra_files={"notices/escalation.en.md": "# Late."},
    )
    passes(
        definition, "answers: {}\ndo:\n  - advance: 3 days\n  - expect notice to: {supervisor: escalation}\nexpect: {}"
    )


def test_sub_workflow_runs_and_its_outcome_picks_the_next_step():
    definition = program(
        """
        start: inspection
        subworkflows:
          site_visit:
            start: visit
            steps:
              visit: {kind: task, title: {en: Visit}, role: clerk, outcomes: {pass: passed, fail: failed}}
              passed: {kind: end, outcome: passed}
              failed: {kind: end, outcome: failed}
        steps:
          inspection: {kind: subworkflow, run: site_visit, outcomes: {passed: issue, failed: refuse}}
          issue: {kind: end, outcome: issued}
          refuse: {kind: end, outcome: refused}
        """
    )
    passes(
        definition,
        f"""
        answers: {{}}
        {ACTORS}
        do:
          - ana completes visit: fail
        expect: {{outcome: refused, path: [inspection, site_visit/visit, site_visit/failed, refuse]}}
        """,
    )


def test_named_conditions_and_a_failing_expression_takes_the_default_route():
    definition = program(
        """
        start: screen
        conditions:
          low_income: income / size < 1000
        steps:
          screen:
            kind: decide
            routes:
              - {when: low_income, to: fast}
              - {to: slow}
          fast: {kind: end, outcome: fast}
          slow: {kind: end, outcome: slow}
        """
    )
    passes(definition, "answers: {income: 2000, size: 4}\nexpect: {outcome: fast}")
    passes(definition, "answers: {income: 8000, size: 4}\nexpect: {outcome: slow}")
    failed = passes(definition, "answers: {income: 2000, size: 0}\nexpect: {outcome: slow}")
    assert any("expression_failed" in line for line in failed.trace)


def test_wait_until_a_date_from_the_case_data():
    definition = program(
        """
        start: hold
        steps:
          hold: {kind: wait, until: decision_date, next: finished}
          finished: {kind: end, outcome: done}
        """
    )
    passes(
        definition,
        """
        answers: {decision_date: "2026-04-01"}
        submitted at: 2026-03-02T10:00:00-08:00
        do:
          - advance to: 2026-03-31T23:00:00-07:00
          - expect outcome: null
          - advance to: 2026-04-01T00:00:00-07:00
        expect: {outcome: done}
        """,
    )


def test_an_answer_named_like_a_condition_cannot_steer_the_route():
    definition = program(
        """
        start: screen
        conditions:
          age: income > 5000
        steps:
          screen:
            kind: decide
            routes:
              - {when: age, to: rich}
              - {to: modest}
          rich: {kind: end, outcome: rich}
          modest: {kind: end, outcome: modest}
        """
    )
    # The form has a field "age"; the condition of the same name is what routes.
    passes(definition, "answers: {age: 99, income: 100}\nexpect: {outcome: modest}")
