// What the addon's two kinds of network (net.cc: the built-in models; script.cc: TorchScript
// modules) have and do alike: their parameters and buffers by PyTorch name, device and optimiser
// with its JS methods (TrainableNet), freezing named parameters, and a training step's loss,
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

// The base of both networks (Derived: Net or ScriptNet, as napi's ObjectWrap needs it). Derived
// fills params_ and buffers_ (pointers to tensors it owns) and device_ in its constructor.
template <typename Derived>
class TrainableNet : public Napi::ObjectWrap<Derived> {
 public:
  explicit TrainableNet(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}

  // setOptimizer({type, lr, beta1, beta2, eps, weightDecay, momentum, nesterov})
  Napi::Value SetOptimizer(const Napi::CallbackInfo& info) {
    optim_.configure(info.Env(), info[0].As<Napi::Object>(), params_.size());
    return info.Env().Undefined();
  }

  Napi::Value SetLearningRate(const Napi::CallbackInfo& info) {
    optim_.setLearningRate(info[0].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  }

  // {step, slots: {"<param>.exp_avg" | "<param>.exp_avg_sq" | "<param>.momentum_buffer": Float32Array}}
  Napi::Value GetOptimizerState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    return optim_.state(env, params_);
  }

  Napi::Value SetOptimizerState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    optim_.restore(env, info[0].As<Napi::Number>().Int64Value(), info[1].As<Napi::Object>(), params_, device_);
    return env.Undefined();
  }

 protected:
  std::vector<Named> params_;
  std::vector<Named> buffers_;
  std::vector<int64_t> inputShape_;
  at::Device device_ = at::kCPU;
  Optimizer optim_;
  bool disposed_ = false;

  void assertAlive(Napi::Env env) const {
    if (disposed_) throw Napi::Error::New(env, "torch engine: this network was disposed");
  }

  at::Tensor* findNamed(const std::string& name) {
    for (auto& n : params_)
      if (n.name == name) return n.tensor;
    for (auto& n : buffers_)
      if (n.name == name) return n.tensor;
    return nullptr;
  }
};

}  // namespace curricula
