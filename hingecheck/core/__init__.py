"""The pure core: types, settings schema, kinematics, filters, movement and the streaming coach.

Imports nothing but numpy, scipy, the standard library and itself (checked by import-linter in CI).
"""
