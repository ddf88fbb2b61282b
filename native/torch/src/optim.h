// Shared by the addon's two kinds of network (net.cc: networks built from a layer list; script.cc:
// TorchScript modules): the device parser, the layout helpers, named parameter handles and the optimiser (torch.optim
// Adam, AdamW and SGD of PyTorch 1.13, single-tensor path) with its slots.
#pragma once

#include "napi_util.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <cmath>
#include <string>
#include <vector>

namespace curricula {

inline at::Device parseDevice(const std::string& s) {
  if (s == "cpu") return at::Device(at::kCPU);
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw std::runtime_error("device '" + s + "': this libtorch has no usable CUDA (torch::cuda::is_available() is false)");
    }
    int64_t index = s == "cuda" ? 0 : std::stoll(s.substr(5));
    int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    if (index < 0 || index >= count) {
      throw std::runtime_error("device '" + s + "': libtorch sees " + std::to_string(count) + " CUDA device(s)");
    }
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw std::runtime_error("device '" + s + "': expected cpu, cuda or cuda:N");
}

// NHWC (as JS holds it) <-> PyTorch's layout: 4-D tensors are NCHW inside, others unchanged.
inline at::Tensor fromChannelsLast(const at::Tensor& t) { return t.dim() == 4 ? t.permute({0, 3, 1, 2}) : t; }
inline at::Tensor toChannelsLast(const at::Tensor& t) { return t.dim() == 4 ? t.permute({0, 2, 3, 1}) : t; }

inline std::vector<int64_t> withBatch(int64_t batch, const std::vector<int64_t>& shape) {
  std::vector<int64_t> out{batch};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

// A parameter or buffer by its PyTorch name; the tensor is owned by the network.
struct Named {
  std::string name;
  at::Tensor* tensor;
};

enum class OptimKind { None, Adam, AdamW, SGD };

struct OptimConfig {
  OptimKind kind = OptimKind::None;
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, momentum = 0;
  bool nesterov = false;
};

class Optimizer {
 public:
  bool active() const { return config_.kind != OptimKind::None; }

  // configure({type, lr, beta1, beta2, eps, weightDecay, momentum, nesterov}) for `count` parameters.
  void configure(Napi::Env env, const Napi::Object& o, size_t count) {
    auto type = o.Get("type").As<Napi::String>().Utf8Value();
    OptimConfig c;
    if (type == "Adam") c.kind = OptimKind::Adam;
    else if (type == "AdamW") c.kind = OptimKind::AdamW;
    else if (type == "SGD") c.kind = OptimKind::SGD;
    else throw Napi::Error::New(env, "torch engine: unknown optimizer '" + type + "'");
    c.lr = numberOr(o, "lr", c.lr);
    c.beta1 = numberOr(o, "beta1", c.beta1);
    c.beta2 = numberOr(o, "beta2", c.beta2);
    c.eps = numberOr(o, "eps", c.eps);
    c.weightDecay = numberOr(o, "weightDecay", 0);
    c.momentum = numberOr(o, "momentum", 0);
    c.nesterov = o.Has("nesterov") && o.Get("nesterov").ToBoolean().Value();
    config_ = c;
    step_ = 0;
    expAvg_.assign(count, at::Tensor());
    expAvgSq_.assign(count, at::Tensor());
    momentumBuffer_.assign(count, at::Tensor());
  }

  void setLearningRate(double lr) { config_.lr = lr; }

  // One update of every parameter that has a gradient; the gradients are cleared.
  void update(const std::vector<Named>& params) {
    at::NoGradGuard noGrad;
    step_ += 1;
    const OptimConfig& c = config_;
    const double step = static_cast<double>(step_);
    for (size_t i = 0; i < params.size(); i++) {
      at::Tensor& p = *params[i].tensor;
      at::Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (c.kind == OptimKind::SGD) {
        at::Tensor d = c.weightDecay != 0 ? grad.add(p, c.weightDecay) : grad;
        if (c.momentum != 0) {
          at::Tensor& buf = momentumBuffer_[i];
          if (!buf.defined()) buf = d.clone().detach();
          else buf.mul_(c.momentum).add_(d);
          d = c.nesterov ? d.add(buf, c.momentum) : buf;
        }
        p.add_(d, -c.lr);
      } else {
        if (c.kind == OptimKind::AdamW) p.mul_(1 - c.lr * c.weightDecay);
        at::Tensor g = c.kind == OptimKind::Adam && c.weightDecay != 0 ? grad.add(p, c.weightDecay) : grad;
        at::Tensor& m = expAvg_[i];
        at::Tensor& v = expAvgSq_[i];
        if (!m.defined()) m = at::zeros_like(p);
        if (!v.defined()) v = at::zeros_like(p);
        m.mul_(c.beta1).add_(g, 1 - c.beta1);
        v.mul_(c.beta2).addcmul_(g, g, 1 - c.beta2);
        const double bc1 = 1 - std::pow(c.beta1, step);
        const double bc2 = 1 - std::pow(c.beta2, step);
        const double stepSize = c.lr / bc1;
        at::Tensor denom = (v.sqrt() / std::sqrt(bc2)).add_(c.eps);
        p.addcdiv_(m, denom, -stepSize);
      }
      p.mutable_grad() = at::Tensor();
    }
  }

  // {step, slots: {"<param>.exp_avg" | "<param>.exp_avg_sq" | "<param>.momentum_buffer": Float32Array}}
  Napi::Object state(Napi::Env env, const std::vector<Named>& params) const {
    auto out = Napi::Object::New(env);
    out.Set("step", Napi::Number::New(env, static_cast<double>(step_)));
    auto slots = Napi::Object::New(env);
    for (size_t i = 0; i < params.size(); i++) {
      const std::string& n = params[i].name;
      if (i < expAvg_.size() && expAvg_[i].defined()) slots.Set(n + ".exp_avg", toJs(env, expAvg_[i]));
      if (i < expAvgSq_.size() && expAvgSq_[i].defined()) slots.Set(n + ".exp_avg_sq", toJs(env, expAvgSq_[i]));
      if (i < momentumBuffer_.size() && momentumBuffer_[i].defined())
        slots.Set(n + ".momentum_buffer", toJs(env, momentumBuffer_[i]));
    }
    out.Set("slots", slots);
    return out;
  }

  // Restores what state() returned; every slot must match a parameter.
  void restore(Napi::Env env, int64_t step, const Napi::Object& slots, const std::vector<Named>& params,
               const at::Device& device) {
    if (!active()) throw Napi::Error::New(env, "torch engine: no optimizer to restore");
    std::vector<at::Tensor> m(params.size()), v(params.size()), b(params.size());
    auto names = slots.GetPropertyNames();
    for (uint32_t k = 0; k < names.Length(); k++) {
      auto key = names.Get(k).As<Napi::String>().Utf8Value();
      bool found = false;
      for (size_t i = 0; i < params.size(); i++) {
        const std::string& n = params[i].name;
        std::vector<at::Tensor>* target = nullptr;
        if (key == n + ".exp_avg") target = &m;
        else if (key == n + ".exp_avg_sq") target = &v;
        else if (key == n + ".momentum_buffer") target = &b;
        if (!target) continue;
        auto data = float32Arg(slots.Get(key), "an optimizer slot");
        try {
          (*target)[i] = viewFloat32(data, params[i].tensor->sizes().vec())
                             .to(device, params[i].tensor->scalar_type(), false, true);
        } catch (const std::exception& e) {
          throw Napi::Error::New(env, "torch engine: optimizer slot '" + key + "': " + e.what());
        }
        found = true;
        break;
      }
      if (!found) throw Napi::Error::New(env, "torch engine: optimizer slot '" + key + "' matches no parameter");
    }
    expAvg_ = m;
    expAvgSq_ = v;
    momentumBuffer_ = b;
    step_ = step;
  }

  void clear() {
    expAvg_.clear();
    expAvgSq_.clear();
    momentumBuffer_.clear();
  }

 private:
  OptimConfig config_;
  int64_t step_ = 0;
  // Slots by parameter index: Adam's exp_avg/exp_avg_sq, SGD's momentum_buffer.
  std::vector<at::Tensor> expAvg_, expAvgSq_, momentumBuffer_;
};

}  // namespace curricula
