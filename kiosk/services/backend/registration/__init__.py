"""Registration and reconfirmation of security info (flow register, and after a reset or change).

The same state machine as recovery (`recovery.machine`): `machine.may_register` alone decides whether a
session may change an account's security info, re-evaluated on every step.
"""
