#pragma once
// `rlforge train --nproc N`: N local processes of this program, joined into one group through
// torchrun's variables.

namespace rlforge::cli {

// Runs this program's own command line again (without --nproc) in `nproc` processes with
// MASTER_ADDR=127.0.0.1, a free MASTER_PORT, RANK, LOCAL_RANK and WORLD_SIZE set; forwards
// Ctrl-C (SIGINT, SIGTERM) to them. When a rank exits non-zero, stops the others and returns 1
// after one line naming that rank; 130 when the ranks stopped on Ctrl-C; else 0.
int launch_local_ranks(int nproc);

}  // namespace rlforge::cli
