// The k-NN kernels of curricula's libtorch engine: the matrix product a·bᵀ and the tile pass that
// filters its candidates without handing the product to JS (src/scoring/math/knn/tiled.ts).

#include "napi_util.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace curricula {
namespace {

// A query's bound during one tile pass. A finite `keep` (limit + e when the pass starts) stays
// fixed. An infinite one (a query that has seen fewer than k references) follows what the JS
// offers would make of it: once the k smallest distances seen so far are known, keep becomes
// (k-th + e) + e — the JS limit's approximate part, computed the same way. The JS limit is the
// smaller of that and the resolved k-th distance, so this bound is never below the JS one: every
// pair JS would offer passes it, and a fresh query's first tile hands over ~k·ln(tile/k) pairs
// instead of all of them.
struct QueryBound {
  double keep;
  double e;
  bool tracking;
  std::vector<double> heap;  // max-heap of the k smallest distances seen (tracking only)

  QueryBound(double keep_, double e_) : keep(keep_), e(e_), tracking(std::isinf(keep_) && keep_ > 0) {}

  bool admit(double d, size_t k) {
    if (!(d <= keep)) return false;
    if (tracking) {
      if (heap.size() < k) {
        heap.push_back(d);
        std::push_heap(heap.begin(), heap.end());
      } else if (d < heap.front()) {
        std::pop_heap(heap.begin(), heap.end());
        heap.back() = d;
        std::push_heap(heap.begin(), heap.end());
      }
      if (heap.size() == k) keep = (heap.front() + e) + e;
    }
    return true;
  }
};

struct BoundsArg {
  Napi::Float64Array keep;
  Napi::Float64Array errors;
};

BoundsArg boundsArg(const Napi::Value& v, int64_t rows, const char* what) {
  if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), std::string("torch engine: ") + what + " must be {keep, errors}");
  auto o = v.As<Napi::Object>();
  BoundsArg out{float64Arg(o.Get("keep"), "keep"), float64Arg(o.Get("errors"), "errors")};
  if (static_cast<int64_t>(out.keep.ElementLength()) != rows || static_cast<int64_t>(out.errors.ElementLength()) != rows) {
    throw std::runtime_error(std::string(what) + ": keep and errors must hold one value per query");
  }
  return out;
}

}  // namespace

// a·bᵀ of row-major a (rowsA × dim) and b (rowsB × dim) in float32: the matrix product the k-NN of
// PredictionDepth needs. Runs on the CPU with libtorch's threads.
Napi::Value MatMulTransposed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rowsA = info[1].As<Napi::Number>().Int64Value();
  const int64_t rowsB = info[3].As<Napi::Number>().Int64Value();
  const int64_t dim = info[4].As<Napi::Number>().Int64Value();
  try {
    c10::InferenceMode guard;
    at::Tensor a = viewFloat32(float32Arg(info[0], "a"), {rowsA, dim});
    at::Tensor b = viewFloat32(float32Arg(info[2], "b"), {rowsB, dim});
    // The product is written straight into the JS array (no copy of the rowsA × rowsB result).
    auto out = Napi::Float32Array::New(env, static_cast<size_t>(rowsA * rowsB));
    if (rowsA * rowsB > 0) {
      at::Tensor view = at::from_blob(out.Data(), {rowsA, rowsB}, at::TensorOptions().dtype(at::kFloat));
      at::mm_out(view, a, b.t());
    }
    return out;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("torch engine: matMulTransposed: ") + e.what());
  }
}

// The k-NN's tile pass: the float32 products a·bᵀ of a (rowsA × dim) and b (rowsB × dim), and of
// them only the candidates each query can still take: distance d = (|q|² + |r|²) − 2·(q·r) in
// float64 from the float32 product, clamped at 0, kept where d ≤ the query's bound (QueryBound).
// Rows of a are queries against the references in b (`rows`: {keep, errors} per row of a); with
// `cols`, b's rows too, as queries against a's rows (the symmetric half of a probe whose queries
// are its references). The arithmetic is the JS scan's, operation for operation, so every pair the
// scan would offer is kept; the caller re-checks each with its bound as it tightens. Returns
// {rowStart, rowIndex, rowDist[, colStart, colIndex, colDist]}: candidates of row r are
// rowIndex/rowDist[rowStart[r] .. rowStart[r+1]), indices into b's rows (and a's for columns),
// ascending. Rows and columns are filtered in separate passes split into contiguous chunks over
// libtorch's threads, joined in order (the result does not depend on the thread count). The
// product never crosses into JS.
Napi::Value TileCandidates(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t rowsA = info[1].As<Napi::Number>().Int64Value();
  const int64_t rowsB = info[3].As<Napi::Number>().Int64Value();
  const int64_t dim = info[4].As<Napi::Number>().Int64Value();
  try {
    auto normsA = float64Arg(info[5], "normsA");
    auto normsB = float64Arg(info[6], "normsB");
    const size_t k = static_cast<size_t>(info[7].As<Napi::Number>().Int64Value());
    if (static_cast<int64_t>(normsA.ElementLength()) != rowsA || static_cast<int64_t>(normsB.ElementLength()) != rowsB) {
      throw std::runtime_error("norms must hold one value per row");
    }
    if (k < 1) throw std::runtime_error("k must be at least 1");
    BoundsArg rowBounds = boundsArg(info[8], rowsA, "rows");
    const bool columns = info.Length() > 9 && !info[9].IsNull() && !info[9].IsUndefined();
    BoundsArg colBounds = columns ? boundsArg(info[9], rowsB, "cols") : BoundsArg{};
    at::Tensor product;
    {
      c10::InferenceMode guard;
      at::Tensor a = viewFloat32(float32Arg(info[0], "a"), {rowsA, dim});
      at::Tensor b = viewFloat32(float32Arg(info[2], "b"), {rowsB, dim});
      product = at::mm(a, b.t()).contiguous();
    }
    const float* dots = product.data_ptr<float>();
    const double* na = normsA.Data();
    const double* nb = normsB.Data();
    const double* ka = rowBounds.keep.Data();
    const double* ea = rowBounds.errors.Data();
    const int64_t threads = std::max<int64_t>(1, at::get_num_threads());

    const int64_t chunks = std::min<int64_t>(threads, rowsA);
    std::vector<std::vector<int32_t>> rowIndexParts(chunks);
    std::vector<std::vector<double>> rowDistParts(chunks);
    std::vector<int32_t> rowStart(static_cast<size_t>(rowsA) + 1, 0);
    at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; c++) {
        auto& index = rowIndexParts[c];
        auto& dist = rowDistParts[c];
        for (int64_t r = rowsA * c / chunks; r < rowsA * (c + 1) / chunks; r++) {
          const float* row = dots + r * rowsB;
          const double qa = na[r];
          QueryBound bound(ka[r], ea[r]);
          for (int64_t t = 0; t < rowsB; t++) {
            double d = (qa + nb[t]) - 2.0 * static_cast<double>(row[t]);
            if (d < 0) d = 0;
            if (bound.admit(d, k)) {
              index.push_back(static_cast<int32_t>(t));
              dist.push_back(d);
            }
          }
          rowStart[r + 1] = static_cast<int32_t>(index.size());  // within the chunk; offset below
        }
      }
    });
    std::vector<int32_t> rowIndex;
    std::vector<double> rowDist;
    for (int64_t c = 0; c < chunks; c++) {
      const int32_t offset = static_cast<int32_t>(rowIndex.size());
      for (int64_t r = rowsA * c / chunks; r < rowsA * (c + 1) / chunks; r++) rowStart[r + 1] += offset;
      rowIndex.insert(rowIndex.end(), rowIndexParts[c].begin(), rowIndexParts[c].end());
      rowDist.insert(rowDist.end(), rowDistParts[c].begin(), rowDistParts[c].end());
    }
    auto out = Napi::Object::New(env);
    out.Set("rowStart", copyOut<int32_t, Napi::Int32Array>(env, rowStart));
    out.Set("rowIndex", copyOut<int32_t, Napi::Int32Array>(env, rowIndex));
    out.Set("rowDist", copyOut<double, Napi::Float64Array>(env, rowDist));
    if (columns) {
      const double* kb = colBounds.keep.Data();
      const double* eb = colBounds.errors.Data();
      const int64_t colChunks = std::min<int64_t>(threads, rowsB);
      std::vector<std::vector<int32_t>> colIndex(static_cast<size_t>(rowsB));
      std::vector<std::vector<double>> colDist(static_cast<size_t>(rowsB));
      at::parallel_for(0, colChunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; c++) {
          const int64_t t0 = rowsB * c / colChunks;
          const int64_t t1 = rowsB * (c + 1) / colChunks;
          std::vector<QueryBound> bounds;
          bounds.reserve(static_cast<size_t>(t1 - t0));
          for (int64_t t = t0; t < t1; t++) bounds.emplace_back(kb[t], eb[t]);
          // Column t (b's row t as a query) meets a's rows in ascending order.
          for (int64_t r = 0; r < rowsA; r++) {
            const float* row = dots + r * rowsB;
            const double qa = na[r];
            for (int64_t t = t0; t < t1; t++) {
              double d = (nb[t] + qa) - 2.0 * static_cast<double>(row[t]);
              if (d < 0) d = 0;
              if (bounds[t - t0].admit(d, k)) {
                colIndex[t].push_back(static_cast<int32_t>(r));
                colDist[t].push_back(d);
              }
            }
          }
        }
      });
      std::vector<int32_t> colStart(static_cast<size_t>(rowsB) + 1, 0);
      std::vector<int32_t> flatIndex;
      std::vector<double> flatDist;
      for (int64_t t = 0; t < rowsB; t++) {
        flatIndex.insert(flatIndex.end(), colIndex[t].begin(), colIndex[t].end());
        flatDist.insert(flatDist.end(), colDist[t].begin(), colDist[t].end());
        colStart[t + 1] = static_cast<int32_t>(flatIndex.size());
      }
      out.Set("colStart", copyOut<int32_t, Napi::Int32Array>(env, colStart));
      out.Set("colIndex", copyOut<int32_t, Napi::Int32Array>(env, flatIndex));
      out.Set("colDist", copyOut<double, Napi::Float64Array>(env, flatDist));
    }
    return out;
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("torch engine: tileCandidates: ") + e.what());
  }
}

}  // namespace curricula
