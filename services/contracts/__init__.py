"""Contracts v1: the event and command models and subjects that cross the wire.

Every service imports these; nothing here imports a service. Changes within v1 are additive only.
"""
