// What `facet swap` and `facet demo` (the same workflow) show while they run and when they end:
// status lines through the Console, the trainer's periodic lines as hideable status (-q), one
// progress line per extract / merge step, and the table of steps with where everything is.
#pragma once
#include <memory>
#include <string>

#include "bin/console.h"
#include "pipeline/swap/swap_workflow.h"

namespace facet::cli {

class SwapConsole {
 public:
  explicit SwapConsole(Console& console) : console_(console) {}
  // Callbacks into this object: it must outlive the run.
  swap::SwapReport report();
  // Prints the steps table and the paths; returns the exit code (130 when stopped).
  int finish(const swap::SwapResult& r);

 private:
  Console& console_;
  std::unique_ptr<ConsoleProgress> bar_;
  std::string bar_step_;
};

}  // namespace facet::cli
