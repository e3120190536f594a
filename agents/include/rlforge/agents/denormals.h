#pragma once
// Denormal floats flushed to zero, for a scope and a thread.
//
// A float below 1.2e-38 in magnitude is denormal, and x86 cores take many times longer for each
// operation on one (bench/ BM_FlatAdamStep, TQC's critics' Adam pass: 0.20 ms, and 4.9 ms when
// every moment is denormal). Adam's moments decay into that range wherever a gradient has gone
// quiet (a dead ReLU unit: the first moment after about 700 steps of zeros, the second after
// about 70k), so long DQN, SAC, TD3 and TQC runs slowed down as they learned. The flat Adam pass
// (flat_parameters.h) runs in a scope that flushes them, as TensorFlow's compute threads do and
// PyTorch's torch.set_flush_denormal(True) allows. Values below 1.2e-38 become 0, which moves a
// parameter by at most one step of that size. Environments keep IEEE arithmetic (their
// trajectories must stay Gymnasium's), so the mode is set per scope and per thread, never for
// the process.

namespace rlforge {

// The calling thread's denormal bits (x86's flush-to-zero and denormals-are-zero; 0 elsewhere).
unsigned denormal_mode();
// The bits that flush denormals: both (0 where the CPU has no such mode).
unsigned flush_denormals_mode();

// Sets the calling thread's denormal bits to `mode` until the scope ends. A task that runs on a
// worker thread for a caller takes the caller's denormal_mode(), so the numbers do not depend on
// which thread ran it.
class DenormalModeScope {
 public:
  explicit DenormalModeScope(unsigned mode);
  ~DenormalModeScope();
  DenormalModeScope(const DenormalModeScope&) = delete;
  DenormalModeScope& operator=(const DenormalModeScope&) = delete;

 private:
  unsigned saved_;
};

}  // namespace rlforge
