import json, sys
repo = sys.argv[1]
sys.path.insert(0, repo + "/benchmarks")
import validate_quality as vq
from helpert.protocols import load_protocol
import helpert
print(helpert.__file__, file=sys.stderr)
out = vq.backchannel_check(vq.unseen_sessions(), load_protocol("cbt_session"))
json.dump(out, open(sys.argv[2], "w"), indent=1)
print(json.dumps(out))
