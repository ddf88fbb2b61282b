// curricula's libtorch engine: a thin N-API layer over ATen. It builds a network from the
// engine-neutral layer list that src/engine/torch/ sends (JSON), runs training steps (forward in
// training mode, cross-entropy against a target matrix, backward, an optimiser update written as
// torch.optim 1.13 writes it) and eval forward passes with named taps. Everything else (descriptions,
// initial weights, dropout masks, checkpoints) stays in TypeScript.
//
// Layouts: JS sends and receives channels-last arrays (NHWC); inside, image tensors are NCHW so that
// ATen's convolutions and poolings run on their native layout. Parameters are PyTorch's.
//
// This file: the network (class Net).

#include "napi_util.h"
#include "optim.h"
#include "pooling.h"
#include "training.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace curricula {
namespace {

enum class Kind { Reshape, Flatten, Linear, Conv2d, BatchNorm2d, Relu, MaxPool2d, Dropout, Add, Gap };

struct Layer {
  Kind kind;
  std::string name;
  std::vector<int> inputs;         // indices of earlier layers; -1 is the network input
  std::vector<int64_t> outShape;   // per-sample, channels-last
  // kind-specific
  int64_t stride = 1, padding = 0;
  int64_t poolKernel[2] = {1, 1}, poolStride[2] = {1, 1};
  double p = 0, eps = 1e-5, momentum = 0.1;
  int dropoutIndex = -1;           // position among the dropout layers (masks arrive in this order)
  // parameters (linear, conv2d, batchnorm2d)
  at::Tensor weight, bias, runningMean, runningVar;
};

Kind parseKind(const std::string& s) {
  if (s == "reshape") return Kind::Reshape;
  if (s == "flatten") return Kind::Flatten;
  if (s == "linear") return Kind::Linear;
  if (s == "conv2d") return Kind::Conv2d;
  if (s == "batchnorm2d") return Kind::BatchNorm2d;
  if (s == "relu") return Kind::Relu;
  if (s == "maxpool2d") return Kind::MaxPool2d;
  if (s == "dropout") return Kind::Dropout;
  if (s == "add") return Kind::Add;
  if (s == "gap") return Kind::Gap;
  throw std::runtime_error("unknown layer kind '" + s + "'");
}

class Net : public TrainableNet<Net> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Net",
                       {
                           InstanceMethod("setParameters", &Net::SetParameters),
                           InstanceMethod("getParameters", &Net::GetParameters),
                           InstanceMethod("setOptimizer", &Net::SetOptimizer),
                           InstanceMethod("setFrozen", &Net::SetFrozen),
                           InstanceMethod("setLearningRate", &Net::SetLearningRate),
                           InstanceMethod("trainStep", &Net::TrainStep),
                           InstanceMethod("forward", &Net::Forward),
                           InstanceMethod("getOptimizerState", &Net::GetOptimizerState),
                           InstanceMethod("setOptimizerState", &Net::SetOptimizerState),
                           InstanceMethod("dispose", &Net::Dispose),
                       });
  }

  // new Net(layers: object[], inputShape: number[], device: string)
  explicit Net(const Napi::CallbackInfo& info) : TrainableNet<Net>(info) {
    Napi::Env env = info.Env();
    try {
      auto layers = info[0].As<Napi::Array>();
      inputShape_ = readShape(info[1]);
      device_ = parseDevice(info[2].As<Napi::String>().Utf8Value());
      std::unordered_map<std::string, int> index;
      auto opts = at::TensorOptions().dtype(at::kFloat).device(device_);
      for (uint32_t i = 0; i < layers.Length(); i++) {
        auto o = layers.Get(i).As<Napi::Object>();
        Layer l;
        l.kind = parseKind(o.Get("kind").As<Napi::String>().Utf8Value());
        l.name = o.Get("name").As<Napi::String>().Utf8Value();
        l.outShape = readShape(o.Get("outputShape"));
        auto inputs = o.Get("inputs").As<Napi::Array>();
        for (uint32_t j = 0; j < inputs.Length(); j++) {
          auto name = inputs.Get(j).As<Napi::String>().Utf8Value();
          if (name == "input") {
            l.inputs.push_back(-1);
          } else {
            auto it = index.find(name);
            if (it == index.end()) throw std::runtime_error("layer '" + l.name + "' reads unknown layer '" + name + "'");
            l.inputs.push_back(it->second);
          }
        }
        switch (l.kind) {
          case Kind::Linear: {
            auto in = static_cast<int64_t>(numberOr(o, "inFeatures", 0));
            auto out = static_cast<int64_t>(numberOr(o, "outFeatures", 0));
            l.weight = at::zeros({out, in}, opts);
            l.bias = at::zeros({out}, opts);
            break;
          }
          case Kind::Conv2d: {
            auto in = static_cast<int64_t>(numberOr(o, "inChannels", 0));
            auto out = static_cast<int64_t>(numberOr(o, "outChannels", 0));
            auto k = static_cast<int64_t>(numberOr(o, "kernelSize", 1));
            l.stride = static_cast<int64_t>(numberOr(o, "stride", 1));
            auto pad = o.Get("padding").As<Napi::String>().Utf8Value();
            l.padding = pad == "same" ? (k - 1) / 2 : 0;
            l.weight = at::zeros({out, in, k, k}, opts);
            l.bias = at::zeros({out}, opts);
            break;
          }
          case Kind::BatchNorm2d: {
            auto c = static_cast<int64_t>(numberOr(o, "numFeatures", 0));
            l.eps = numberOr(o, "eps", 1e-5);
            l.momentum = numberOr(o, "momentum", 0.1);
            l.weight = at::ones({c}, opts);
            l.bias = at::zeros({c}, opts);
            l.runningMean = at::zeros({c}, opts);
            l.runningVar = at::ones({c}, opts);
            break;
          }
          case Kind::MaxPool2d: {
            auto k = readShape(o.Get("kernelSize"));
            auto s = readShape(o.Get("stride"));
            l.poolKernel[0] = k.at(0);
            l.poolKernel[1] = k.at(1);
            l.poolStride[0] = s.at(0);
            l.poolStride[1] = s.at(1);
            break;
          }
          case Kind::Dropout:
            l.p = numberOr(o, "p", 0);
            l.dropoutIndex = dropoutCount_++;
            break;
          default:
            break;
        }
        if (l.weight.defined()) {
          l.weight.requires_grad_(true);
          l.bias.requires_grad_(true);
        }
        index[l.name] = static_cast<int>(layers_.size());
        layers_.push_back(std::move(l));
      }
      // Pointers into layers_ are taken once it stopped growing.
      for (auto& l : layers_) {
        if (!l.weight.defined()) continue;
        params_.push_back({l.name + ".weight", &l.weight});
        params_.push_back({l.name + ".bias", &l.bias});
        if (l.kind == Kind::BatchNorm2d) {
          buffers_.push_back({l.name + ".running_mean", &l.runningMean});
          buffers_.push_back({l.name + ".running_var", &l.runningVar});
        }
      }
      if (layers_.empty()) throw std::runtime_error("a network needs at least one layer");
    } catch (const std::exception& e) {
      Napi::Error::New(env, std::string("torch engine: ") + e.what()).ThrowAsJavaScriptException();
    }
  }

 private:
  std::vector<Layer> layers_;
  int dropoutCount_ = 0;

  // Runs the layers; `keep[i]` says whether layer i's output must survive until the end.
  std::vector<at::Tensor> run(const at::Tensor& x, bool training, const std::vector<at::Tensor>& masks,
                              const std::vector<bool>& keep) {
    const int64_t batch = x.size(0);
    std::vector<at::Tensor> outs(layers_.size());
    // Last reader of each output, so activations nobody needs any more are released early.
    std::vector<int> lastUse(layers_.size(), -1);
    for (size_t i = 0; i < layers_.size(); i++)
      for (int j : layers_[i].inputs) if (j >= 0) lastUse[j] = static_cast<int>(i);
    const at::Tensor input = fromChannelsLast(x);
    for (size_t i = 0; i < layers_.size(); i++) {
      Layer& l = layers_[i];
      auto in = [&](size_t k) -> const at::Tensor& {
        int j = l.inputs.at(k);
        return j < 0 ? input : outs[j];
      };
      at::Tensor y;
      switch (l.kind) {
        case Kind::Reshape:
          y = fromChannelsLast(toChannelsLast(in(0)).reshape(withBatch(batch, l.outShape)));
          break;
        case Kind::Flatten:
          y = toChannelsLast(in(0)).reshape({batch, -1});
          break;
        case Kind::Linear:
          y = at::linear(in(0), l.weight, l.bias);
          break;
        case Kind::Conv2d:
          y = at::conv2d(in(0), l.weight, l.bias, {l.stride, l.stride}, {l.padding, l.padding});
          break;
        case Kind::BatchNorm2d:
          y = at::batch_norm(in(0), l.weight, l.bias, l.runningMean, l.runningVar, training, l.momentum, l.eps,
                             at::globalContext().userEnabledCuDNN());
          break;
        case Kind::Relu:
          y = at::relu(in(0));
          break;
        case Kind::MaxPool2d:
          y = at::max_pool2d(in(0), {l.poolKernel[0], l.poolKernel[1]}, {l.poolStride[0], l.poolStride[1]});
          break;
        case Kind::Dropout:
          y = training && l.p > 0 ? in(0) * masks.at(l.dropoutIndex) : in(0);
          break;
        case Kind::Add:
          y = in(0);
          for (size_t k = 1; k < l.inputs.size(); k++) y = y + in(k);
          break;
        case Kind::Gap:
          y = in(0).dim() == 4 ? in(0).mean({2, 3}) : in(0);
          break;
      }
      outs[i] = y;
      for (int j : l.inputs)
        if (j >= 0 && lastUse[j] == static_cast<int>(i) && !keep[j]) outs[j] = at::Tensor();
    }
    return outs;
  }

  at::Tensor inputTensor(const Napi::Float32Array& x, int64_t batch) {
    return viewFloat32(x, withBatch(batch, inputShape_)).to(device_);
  }

  Napi::Value SetParameters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    auto obj = info[0].As<Napi::Object>();
    auto names = obj.GetPropertyNames();
    at::NoGradGuard noGrad;
    for (uint32_t i = 0; i < names.Length(); i++) {
      auto name = names.Get(i).As<Napi::String>().Utf8Value();
      at::Tensor* target = findNamed(name);
      if (!target) throw Napi::Error::New(env, "torch engine: the network has no parameter '" + name + "'");
      auto data = float32Arg(obj.Get(name), "a parameter");
      auto shape = target->sizes().vec();
      try {
        target->copy_(viewFloat32(data, shape));
      } catch (const std::exception& e) {
        throw Napi::Error::New(env, "torch engine: parameter '" + name + "': " + e.what());
      }
    }
    return env.Undefined();
  }

  // [{name, shape, data}] of parameters and buffers in layer order (PyTorch layout).
  Napi::Value GetParameters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    auto out = Napi::Array::New(env);
    uint32_t k = 0;
    for (auto& l : layers_) {
      if (!l.weight.defined()) continue;
      std::vector<std::pair<std::string, at::Tensor>> items = {{".weight", l.weight}, {".bias", l.bias}};
      if (l.kind == Kind::BatchNorm2d) {
        items.push_back({".running_mean", l.runningMean});
        items.push_back({".running_var", l.runningVar});
      }
      for (auto& [suffix, t] : items) {
        auto entry = Napi::Object::New(env);
        entry.Set("name", l.name + suffix);
        auto shape = Napi::Array::New(env);
        for (int64_t d = 0; d < t.dim(); d++) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, t.size(d)));
        entry.Set("shape", shape);
        entry.Set("data", toJs(env, t));
        out.Set(k++, entry);
      }
    }
    return out;
  }

  // setFrozen(names: string[]): these parameters get no gradient, so the optimiser (and its weight
  // decay) never touches them; every other parameter trains.
  Napi::Value SetFrozen(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    freezeParameters(env, info[0].As<Napi::Array>(), params_, "network");
    return env.Undefined();
  }

  // trainStep(x: Float32Array, batch: number, target: Float32Array, masks: Float32Array[],
  // logitsOut?: Float32Array) → loss. target[i, c] = w[y_i] / sum_j w[y_j] at the label and 0
  // elsewhere, so the loss is PyTorch's (weighted) mean cross-entropy. With logitsOut (batch ×
  // classes) the step's own training-mode logits are copied into it (no second forward pass).
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    if (!optim_.active()) throw Napi::Error::New(env, "torch engine: trainStep needs an optimizer");
    const int64_t batch = info[1].As<Napi::Number>().Int64Value();
    try {
      at::Tensor x = inputTensor(float32Arg(info[0], "the input"), batch);
      auto maskArray = info[3].As<Napi::Array>();
      std::vector<at::Tensor> masks(dropoutCount_);
      for (auto& l : layers_) {
        if (l.kind != Kind::Dropout || l.p <= 0) continue;
        auto m = float32Arg(maskArray.Get(static_cast<uint32_t>(l.dropoutIndex)), "a dropout mask");
        masks[l.dropoutIndex] = fromChannelsLast(viewFloat32(m, withBatch(batch, l.outShape)).to(device_));
      }
      const int64_t classes = layers_.back().outShape.at(0);
      at::Tensor target = viewFloat32(float32Arg(info[2], "the target"), {batch, classes}).to(device_);
      std::vector<bool> keep(layers_.size(), false);
      at::Tensor logits = run(x, true, masks, keep).back();
      return Napi::Number::New(env, crossEntropyStep(info, logits, target, optim_, params_));
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("torch engine: trainStep: ") + e.what());
    }
  }

  // forward(x, batch, taps: number[], pools?: (plan | null)[]) → {logits, layers: Float32Array[]}
  // (taps channels-last; tap k pooled by pools[k] when that is a pool1d or pool2d plan, see pooling.h).
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    assertAlive(env);
    const int64_t batch = info[1].As<Napi::Number>().Int64Value();
    auto tapArray = info[2].As<Napi::Array>();
    try {
      c10::InferenceMode guard;
      std::vector<bool> keep(layers_.size(), false);
      std::vector<int> taps;
      for (uint32_t i = 0; i < tapArray.Length(); i++) {
        int t = tapArray.Get(i).As<Napi::Number>().Int32Value();
        if (t < 0 || t >= static_cast<int>(layers_.size())) throw std::runtime_error("tap index out of range");
        keep[t] = true;
        taps.push_back(t);
      }
      std::vector<PoolPlan> plans(taps.size());
      std::vector<bool> pooled(taps.size(), false);
      if (info.Length() > 3 && info[3].IsArray()) {
        auto poolArray = info[3].As<Napi::Array>();
        if (poolArray.Length() != taps.size()) throw std::runtime_error("pools must hold one entry per tap");
        for (uint32_t i = 0; i < poolArray.Length(); i++) pooled[i] = readPoolPlan(poolArray.Get(i), plans[i]);
      }
      at::Tensor x = inputTensor(float32Arg(info[0], "the input"), batch);
      auto outs = run(x, false, {}, keep);
      auto result = Napi::Object::New(env);
      result.Set("logits", toJs(env, outs.back()));
      auto layers = Napi::Array::New(env);
      for (size_t i = 0; i < taps.size(); i++) {
        at::Tensor tap = toChannelsLast(outs[taps[i]]);
        layers.Set(static_cast<uint32_t>(i), pooled[i] ? poolToJs(env, tap, plans[i]) : toJs(env, tap));
      }
      result.Set("layers", layers);
      return result;
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, std::string("torch engine: forward: ") + e.what());
    }
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    disposed_ = true;
    layers_.clear();
    params_.clear();
    buffers_.clear();
    optim_.clear();
    return info.Env().Undefined();
  }
};

}  // namespace

Napi::Function DefineNet(Napi::Env env) { return Net::Define(env); }

}  // namespace curricula
