"""The recipients' rate limits: what one link, one client and one stranger guessing tokens may
do. The counting is `common.limits`'s."""

from common.limits import Limit

REACTIONS_PER_SHARE = Limit("reactions-share", 20, 3600)
REACTIONS_PER_CLIENT = Limit("reactions-client", 30, 3600)
BEACONS_PER_SHARE = Limit("beacons-share", 60, 60)
BEACONS_PER_CLIENT = Limit("beacons-client", 120, 60)
UNKNOWN_TOKENS_PER_CLIENT = Limit("unknown-tokens", 30, 600)
