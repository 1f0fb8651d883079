"""The shared send gate places each slot taken in the database on this process's clock."""

from bot.delivery.limits import DatabaseClock


def test_a_slot_lands_at_its_moment_however_late_the_answer_that_carried_it_came() -> None:
    clock = DatabaseClock()
    # A quick round trip: 2 ms; the database's clock is 990 s ahead of the loop's.
    clock.observe(sent=10.000, received=10.002, database_now=1000.001)
    # A slow one (a busy loop took 200 ms to read the answer) must not move the slots later.
    clock.observe(sent=20.000, received=20.200, database_now=1010.001)
    assert abs(clock.to_loop(1010.5) - 20.5) < 0.002


def test_the_clock_follows_the_fastest_of_the_recent_round_trips_only() -> None:
    clock = DatabaseClock(keep=2)
    clock.observe(sent=0.0, received=0.001, database_now=100.0005)  # offset 100.0
    clock.observe(sent=1.0, received=1.010, database_now=101.105)  # offset 100.1
    clock.observe(sent=2.0, received=2.004, database_now=102.102)  # offset 100.1: the first is gone
    assert abs(clock.to_loop(110.1) - 10.0) < 0.001
