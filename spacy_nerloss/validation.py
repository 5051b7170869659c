"""Checks for loss settings that raise errors naming the loss, the key, the
value received and what is allowed.
"""
import math
import numbers
from typing import Any, Optional, Sequence


def validate_number(
    loss_name: str,
    key: str,
    value: Any,
    *,
    minimum: float,
    exclusive_minimum: bool = False,
    exclusive_maximum: Optional[float] = None,
    maximum: Optional[float] = None,
) -> float:
    """Check that a setting is a finite real number in a range and return it
    as a float.

    loss_name (str): The registered loss name, used in the message.
    key (str): The config key of the setting.
    value (Any): The value received.
    minimum (float): The lower bound.
    exclusive_minimum (bool): Whether the lower bound itself is rejected.
    exclusive_maximum (Optional[float]): An upper bound that is itself
        rejected, or None for no upper bound.
    maximum (Optional[float]): An upper bound that is itself allowed, or None.
        Give at most one of the two upper bounds.
    RETURNS (float): The value as a float.
    """
    upper = exclusive_maximum if maximum is None else maximum
    if upper is None:
        operator = ">" if exclusive_minimum else ">="
        allowed = f"a finite number {operator} {minimum:g}"
    else:
        bracket = "(" if exclusive_minimum else "["
        closing = ")" if maximum is None else "]"
        allowed = f"a number in {bracket}{minimum:g}, {upper:g}{closing}"
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    valid = is_number and math.isfinite(value)
    if valid:
        valid = value > minimum if exclusive_minimum else value >= minimum
    if valid and exclusive_maximum is not None:
        valid = value < exclusive_maximum
    if valid and maximum is not None:
        valid = value <= maximum
    if not valid:
        raise ValueError(
            f"[{loss_name}] Invalid value for '{key}': {value!r}. Allowed: {allowed}."
        )
    return float(value)


def validate_choice(
    loss_name: str, key: str, value: Any, allowed: Sequence[str], hint: str = ""
) -> str:
    """Check that a setting is one of the allowed names and return it.

    loss_name (str): The registered loss name, used in the message.
    key (str): The config key of the setting.
    value (Any): The value received.
    allowed (Sequence[str]): The allowed values.
    hint (str): A sentence appended to the message, e.g. where to find a
        value that this loss does not accept.
    RETURNS (str): The value.
    """
    if value not in allowed:
        message = (
            f"[{loss_name}] Invalid value for '{key}': {value!r}. "
            f"Allowed values: {', '.join(allowed)}."
        )
        raise ValueError(f"{message} {hint}" if hint else message)
    return value
