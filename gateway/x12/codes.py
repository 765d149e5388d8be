"""X12 acknowledgment code lists: TA1, 997 (AK*) and 999 (IK*).

Values follow the X12 data element dictionary: TA105 (I18), AK304/IK304 (720),
AK403/IK403 (723 / 621), AK501/IK501 and AK901 (717, 715), AK502/IK502 (718),
AK905 (716). Codes that exist only in the 999 (the ``I`` codes) are marked.
Imports nothing from the project.
"""

from __future__ import annotations

from enum import StrEnum


class InterchangeNoteCode(StrEnum):
    """TA105: interchange note code."""

    NO_ERROR = "000"
    CONTROL_NUMBER_MISMATCH = "001"  # ISA13 and IEA02 do not match
    STANDARD_NOT_SUPPORTED = "002"
    VERSION_NOT_SUPPORTED = "003"
    SEGMENT_TERMINATOR_INVALID = "004"
    INVALID_SENDER_QUALIFIER = "005"  # ISA05
    INVALID_SENDER_ID = "006"  # ISA06
    INVALID_RECEIVER_QUALIFIER = "007"  # ISA07
    INVALID_RECEIVER_ID = "008"  # ISA08
    UNKNOWN_RECEIVER_ID = "009"
    INVALID_AUTH_QUALIFIER = "010"  # ISA01
    INVALID_AUTH_VALUE = "011"  # ISA02
    INVALID_SECURITY_QUALIFIER = "012"  # ISA03
    INVALID_SECURITY_VALUE = "013"  # ISA04
    INVALID_DATE = "014"  # ISA09
    INVALID_TIME = "015"  # ISA10
    INVALID_STANDARDS_ID = "016"  # ISA11 (before 00402)
    INVALID_VERSION_ID = "017"  # ISA12
    INVALID_CONTROL_NUMBER = "018"  # ISA13
    INVALID_ACK_REQUESTED = "019"  # ISA14
    INVALID_TEST_INDICATOR = "020"  # ISA15
    INVALID_GROUP_COUNT = "021"  # IEA01
    INVALID_CONTROL_STRUCTURE = "022"
    PREMATURE_END_OF_FILE = "023"
    INVALID_INTERCHANGE_CONTENT = "024"  # e.g. an invalid GS segment
    DUPLICATE_INTERCHANGE = "025"
    INVALID_ELEMENT_SEPARATOR = "026"
    INVALID_COMPONENT_SEPARATOR = "027"
    INVALID_DELIVERY_DATE = "028"
    INVALID_DELIVERY_TIME = "029"
    INVALID_DELIVERY_TIME_CODE = "030"
    INVALID_GRADE_OF_SERVICE = "031"


class InterchangeAckCode(StrEnum):
    """TA104: interchange acknowledgment code."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    REJECTED = "R"


class SegmentErrorCode(StrEnum):
    """AK304 (997) / IK304 (999): segment syntax error code."""

    UNRECOGNIZED_SEGMENT = "1"
    UNEXPECTED_SEGMENT = "2"
    MANDATORY_SEGMENT_MISSING = "3"
    LOOP_OVER_MAX = "4"
    SEGMENT_OVER_MAX_USE = "5"
    NOT_IN_TRANSACTION_SET = "6"
    OUT_OF_SEQUENCE = "7"
    HAS_ELEMENT_ERRORS = "8"
    # 999 only (implementation guide findings)
    IMPL_NOT_USED_SEGMENT_PRESENT = "I4"
    IMPL_DEPENDENT_SEGMENT_MISSING = "I6"
    IMPL_LOOP_UNDER_MIN = "I7"
    IMPL_SEGMENT_UNDER_MIN = "I8"
    IMPL_DEPENDENT_NOT_USED_PRESENT = "I9"


class ElementErrorCode(StrEnum):
    """AK403 (997) / IK403 (999): data element syntax error code."""

    MANDATORY_MISSING = "1"
    CONDITIONAL_MISSING = "2"
    TOO_MANY_ELEMENTS = "3"
    TOO_SHORT = "4"
    TOO_LONG = "5"
    INVALID_CHARACTER = "6"
    INVALID_CODE = "7"
    INVALID_DATE = "8"
    INVALID_TIME = "9"
    EXCLUSION_VIOLATED = "10"
    TOO_MANY_REPETITIONS = "12"
    TOO_MANY_COMPONENTS = "13"
    # 999 only
    IMPL_CODE_NOT_USED = "I6"
    IMPL_DEPENDENT_MISSING = "I9"
    IMPL_NOT_USED_PRESENT = "I10"
    IMPL_TOO_FEW_REPETITIONS = "I11"
    IMPL_PATTERN_MISMATCH = "I12"
    IMPL_DEPENDENT_NOT_USED_PRESENT = "I13"


class SetAckCode(StrEnum):
    """AK501 / IK501: transaction set acknowledgment code."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    REJECTED_MAC_FAILED = "M"
    REJECTED = "R"
    REJECTED_VALIDITY = "W"
    REJECTED_DECRYPT = "X"


class SetErrorCode(StrEnum):
    """AK502 / IK502: transaction set syntax error code."""

    NOT_SUPPORTED = "1"
    TRAILER_MISSING = "2"
    CONTROL_NUMBER_MISMATCH = "3"
    SEGMENT_COUNT_MISMATCH = "4"
    SEGMENTS_IN_ERROR = "5"
    INVALID_SET_ID = "6"
    INVALID_CONTROL_NUMBER = "7"
    NOT_IN_GROUP = "18"  # 005010
    INVALID_CONVENTION_REFERENCE = "19"  # 005010
    CONTROL_NUMBER_NOT_UNIQUE = "23"
    # 999 only
    IMPL_SEGMENTS_IN_ERROR = "I5"
    IMPL_CONVENTION_NOT_SUPPORTED = "I6"


class GroupAckCode(StrEnum):
    """AK901: functional group acknowledge code."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    REJECTED_MAC_FAILED = "M"
    PARTIALLY_ACCEPTED = "P"
    REJECTED = "R"
    REJECTED_VALIDITY = "W"
    REJECTED_DECRYPT = "X"


class GroupErrorCode(StrEnum):
    """AK905-AK909: functional group syntax error code."""

    NOT_SUPPORTED = "1"
    VERSION_NOT_SUPPORTED = "2"
    TRAILER_MISSING = "3"
    CONTROL_NUMBER_MISMATCH = "4"
    SET_COUNT_MISMATCH = "5"
    INVALID_CONTROL_NUMBER = "6"
    NOT_UNIQUE_IN_INTERCHANGE = "19"  # 005010
