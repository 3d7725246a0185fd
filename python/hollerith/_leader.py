"""Finding the leader among coordinators that share one PostgreSQL store (the C++ side is
proto/rpc_leader.h). A standby answers every call with UNAVAILABLE "not the leader; the leader is
ADDR" and the trailing metadata `hollerith-standby` and `hollerith-leader: ADDR`. A client given a
list of addresses ("a:7070,b:7070") follows: a standby's answer moves it to the leader at once, an
unreachable coordinator to the next address of the list."""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Generic, List, Optional, Tuple, TypeVar

import grpc

from hollerith.errors import HollerithError

STANDBY_METADATA = "hollerith-standby"
LEADER_METADATA = "hollerith-leader"
#: Seconds a call looks for the leader (a failover takes about a lease, 2 s by default).
FAILOVER_WINDOW = 15.0

ChannelT = TypeVar("ChannelT")


def split_addresses(text: str) -> List[str]:
    """"a:1, b:2" -> ["a:1", "b:2"]."""
    addresses = [a.strip() for a in text.split(",")]
    if not all(addresses):
        raise HollerithError(f"coordinator address list {text!r} has an empty entry "
                             "(expected HOST:PORT[,HOST:PORT...])")
    return addresses


def standby_answer(error: grpc.RpcError) -> Optional[str]:
    """What a standby answered: the leader's address ("" if it knows none); None when no standby
    answered."""
    trailing = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    found = dict((k, v) for k, v in (trailing or ()))
    if STANDBY_METADATA not in found:
        return None
    leader = found.get(LEADER_METADATA, "")
    return leader.decode() if isinstance(leader, bytes) else str(leader)


class Coordinators(Generic[ChannelT]):
    """The channels and stubs of a list of coordinators, and the one in use."""

    def __init__(self, addresses: str, make_channel: Callable[[str], ChannelT],
                 make_stub: Callable[[ChannelT], Any]) -> None:
        self.addresses = split_addresses(addresses)
        self._make_channel = make_channel
        self._make_stub = make_stub
        self._lock = threading.Lock()
        self._current = self.addresses[0]
        self._next = 0  # where to go back to the list after a followed leader is gone
        self._channels: Dict[str, ChannelT] = {}
        self._stubs: Dict[str, Any] = {}

    def current(self) -> Tuple[Any, str]:
        """The stub and address of the coordinator in use."""
        with self._lock:
            address = self._current
            if address not in self._stubs:
                self._channels[address] = self._make_channel(address)
                self._stubs[address] = self._make_stub(self._channels[address])
            return self._stubs[address], address

    def channels(self) -> List[ChannelT]:
        with self._lock:
            return list(self._channels.values())

    def follow(self, address: str, error: grpc.RpcError) -> Optional[bool]:
        """After a call to `address` failed with `error`: None if there is no other coordinator
        to try; True if a standby named the leader (try it at once); False if the next one is to
        be tried after a pause (an unreachable coordinator, or a standby that knows no leader)."""
        # CANCELLED by the server: a standby handing its port to the leader it became, or a
        # coordinator shutting down (a client's own calls are never cancelled here).
        if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
            return None
        standby = standby_answer(error)
        with self._lock:
            if address != self._current:
                return False  # another call moved on already
            # The leader it names, unless the list has other entries and not that name: then
            # the name is presumably one only the coordinators' own network resolves (a
            # container's), and the leader another entry of the list.
            if standby and standby != address and (standby in self.addresses or
                                                   len(self.addresses) < 2):
                self._current = standby
                return True
            if address in self.addresses and len(self.addresses) < 2:
                return None if standby is None else False  # a lone standby: ask it again
            if address in self.addresses:
                i = self.addresses.index(address) + 1
            else:
                i, self._next = self._next, self._next + 1
            self._current = self.addresses[i % len(self.addresses)]
            return False
