// What the addon's two kinds of network (net.cc: the built-in models; script.cc: TorchScript
// modules) do alike around training: freezing named parameters, and a training step's loss,
// backward pass and optimiser update once each network has computed its logits.
#pragma once

#include <napi.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <string>
#include <vector>

#include "napi_util.h"
#include "optim.h"

namespace curricula {

// setFrozen(names: string[]): these parameters get no gradient, so the optimiser (and its weight
// decay) never touches them; every other parameter trains. A name the network lacks is an error
// naming it (`owner`: "network" or "module").
inline void freezeParameters(Napi::Env env, const Napi::Array& names, std::vector<Named>& params,
                             const char* owner) {
  std::vector<std::string> frozen;
  for (uint32_t i = 0; i < names.Length(); i++) {
    auto name = names.Get(i).As<Napi::String>().Utf8Value();
    const bool found = std::any_of(params.begin(), params.end(), [&](const Named& n) { return n.name == name; });
    if (!found) throw Napi::Error::New(env, std::string("torch engine: the ") + owner + " has no parameter '" + name + "'");
    frozen.push_back(name);
  }
  for (auto& n : params) {
    const bool freeze = std::find(frozen.begin(), frozen.end(), n.name) != frozen.end();
    n.tensor->requires_grad_(!freeze);
  }
}

// The rest of trainStep once the network has its training-mode logits (batch × classes): the loss
// -(log_softmax(logits) · target).sum() (target[i, c] = w[y_i] / Σ_j w[y_j] at the label, 0
// elsewhere, so it is PyTorch's weighted mean cross-entropy), its backward pass and the optimiser's
// update; with trainStep's fifth argument (logitsOut) the logits are copied into it. Returns the loss.
inline double crossEntropyStep(const Napi::CallbackInfo& info, const at::Tensor& logits, const at::Tensor& target,
                               Optimizer& optim, const std::vector<Named>& params) {
  at::Tensor loss = -(at::log_softmax(logits.to(at::kFloat), 1) * target).sum();
  loss.backward();
  optim.update(params);
  if (info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsNull()) copyInto(info[4], logits, "logitsOut");
  return loss.item<double>();
}

}  // namespace curricula
