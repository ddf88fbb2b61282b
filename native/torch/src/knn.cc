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
// fixed. An infinite one (a query that has seen fewer than k references) is settled before the
// pass from the tile itself: with kth the k-th smallest d of the query's pairs in the tile, keep =
// (kth + e) + e, the JS limit's approximate part once those k are offered, computed the same way.
// A pair above it cannot be among the query's exact k nearest: its exact distance exceeds d − e >
// kth + e, while k references of the tile lie within kth + e. So a fresh query's first tile hands
// over its k nearest and the pairs within 2e of them, not every pair (and not the ~k·ln(tile/k) a
// bound tightened along the sweep would let through).
struct QueryBound {
  double keep;
  double e;
  std::vector<double> heap;  // max-heap of the k smallest distances seen while settling

  QueryBound(double keep_, double e_) : keep(keep_), e(e_) {}

  bool unsettled() const { return std::isinf(keep) && keep > 0; }

  // Settling: the k smallest distances of the tile.
  void observe(double d, size_t k) {
    if (!(d == d)) return;  // a NaN never counts among the nearest
    if (heap.size() < k) {
      heap.push_back(d);
      std::push_heap(heap.begin(), heap.end());
    } else if (d < heap.front()) {
      std::pop_heap(heap.begin(), heap.end());
      heap.back() = d;
      std::push_heap(heap.begin(), heap.end());
    }
  }

  // Fewer than k pairs in the tile: the bound stays infinite and every pair is a candidate.
  void settle(size_t k) {
    if (heap.size() == k) keep = (heap.front() + e) + e;
    heap.clear();
    heap.shrink_to_fit();
  }

  bool admit(double d) const { return d <= keep; }
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

namespace {

// A conservative float32 pre-test of the scan's double-precision test, so that the tile is swept
// with 16-wide float compares and the exact test runs only where a block may hold a candidate.
// The scan admits reference t for a query when d = (qa + nb[t]) − 2·dot[t] (double, clamped at 0)
// is ≤ keep, i.e. when dot[t] − nb[t]/2 ≥ (qa − keep)/2 up to the double rounding of d. In float32,
// dot[t] − half[t] (half[t] = fl(nb[t]/2)) is off from the real difference by at most
// u·(|dot| + nb/2) + u·nb/2 with u = 2^-24, and |dot| ≤ (qa + nb)/2 (Cauchy–Schwarz), so a floor
// lowered by 8u·(qa + nbMax + |keep|) — rounded down once more when it becomes a float — never
// rejects a pair the scan would admit. The pre-test is only a shortcut: every pair it passes gets
// the scan's own test, so the candidates are exactly those of the plain loop.
constexpr double kFloat32Eps = 1.0 / 16777216.0;  // 2^-24
constexpr int kBlock = 16;
// Beyond this, halves and floors could overflow float32: the plain loop decides.
constexpr double kPretestLimit = 1e30;

float pretestFloor(double qa, double keep, double nbMax) {
  const double margin = 8.0 * kFloat32Eps * (qa + nbMax + std::fabs(keep));
  const float f = static_cast<float>((qa - keep) * 0.5 - margin);
  return std::nextafter(f, -std::numeric_limits<float>::infinity());
}

// True when some j < kBlock has v[j] − h[j] ≥ floor (written so the compiler vectorises it).
inline bool anyAtLeast(const float* v, const float* h, float floor) {
  int hit = 0;
  for (int j = 0; j < kBlock; j++) hit |= (v[j] - h[j] >= floor);
  return hit != 0;
}

// True when some j < kBlock has v[j] − s ≥ floor[j].
inline bool anyAtLeastScalar(const float* v, float s, const float* floor) {
  int hit = 0;
  for (int j = 0; j < kBlock; j++) hit |= (v[j] - s >= floor[j]);
  return hit != 0;
}

// The product tile of one call, kept between calls (one per thread that calls in).
at::Tensor& productBuffer(int64_t rows, int64_t cols) {
  thread_local at::Tensor buffer;
  if (!buffer.defined() || buffer.numel() < rows * cols) buffer = at::empty({rows * cols}, at::TensorOptions().dtype(at::kFloat));
  return buffer;
}

}  // namespace

// The k-NN's tile pass: the float32 products a·bᵀ of a (rowsA × dim) and b (rowsB × dim), and of
// them only the candidates each query can still take: distance d = (|q|² + |r|²) − 2·(q·r) in
// float64 from the float32 product, clamped at 0, kept where d ≤ the query's bound (QueryBound).
// Rows of a are queries against the references in b (`rows`: {keep, errors} per row of a); with
// `cols`, b's rows too, as queries against a's rows (the symmetric half of a probe whose queries
// are its references). The arithmetic is the JS scan's, operation for operation; unsettled bounds
// are settled from the tile first (QueryBound), and every finite bound is swept with the float32
// pre-test above; the caller re-checks each pair with its bound as it tightens. Returns
// {rowStart, rowIndex, rowDist[, colStart, colIndex, colDist]}: candidates of row r are
// rowIndex/rowDist[rowStart[r] .. rowStart[r+1]), indices into b's rows (and a's for columns),
// ascending. One sweep in row chunks over libtorch's threads filters rows and columns. Chunks are
// joined in order, so the result does not depend on the thread count. The product never crosses
// into JS.
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
    at::Tensor& buffer = productBuffer(rowsA, rowsB);
    {
      c10::InferenceMode guard;
      at::Tensor a = viewFloat32(float32Arg(info[0], "a"), {rowsA, dim});
      at::Tensor b = viewFloat32(float32Arg(info[2], "b"), {rowsB, dim});
      at::Tensor view = buffer.narrow(0, 0, rowsA * rowsB).view({rowsA, rowsB});
      if (rowsA * rowsB > 0) at::mm_out(view, a, b.t());
    }
    const float* dots = buffer.data_ptr<float>();
    const double* na = normsA.Data();
    const double* nb = normsB.Data();
    const double* ka = rowBounds.keep.Data();
    const double* ea = rowBounds.errors.Data();
    const int64_t threads = std::max<int64_t>(1, at::get_num_threads());

    // Halves of the norms for the pre-test, and whether the pre-test may be used at all.
    double naMax = 0, nbMax = 0;
    for (int64_t r = 0; r < rowsA; r++) naMax = std::max(naMax, na[r]);
    for (int64_t t = 0; t < rowsB; t++) nbMax = std::max(nbMax, nb[t]);
    const bool pretest = naMax < kPretestLimit && nbMax < kPretestLimit;
    std::vector<float> halfB(pretest ? static_cast<size_t>(rowsB) : 0);
    for (size_t t = 0; t < halfB.size(); t++) halfB[t] = static_cast<float>(nb[t] * 0.5);
    const int64_t blockEnd = rowsB - rowsB % kBlock;

    // Columns: unsettled bounds are settled first (a row-major read of the tile, a share of those
    // columns per thread); then every finite bound gets the pre-test floor.
    std::vector<double> colKeep(columns ? static_cast<size_t>(rowsB) : 0);
    std::vector<float> colFloor(columns ? static_cast<size_t>(rowsB) : 0);
    std::vector<float> halfA(columns ? static_cast<size_t>(rowsA) : 0);
    if (columns) {
      const double* kb = colBounds.keep.Data();
      const double* eb = colBounds.errors.Data();
      std::vector<int64_t> unsettled;
      for (int64_t t = 0; t < rowsB; t++) {
        colKeep[t] = kb[t];
        if (std::isinf(kb[t]) && kb[t] > 0) unsettled.push_back(t);
      }
      const int64_t nOpen = static_cast<int64_t>(unsettled.size());
      const int64_t openChunks = std::min<int64_t>(threads, nOpen);
      at::parallel_for(0, openChunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; c++) {
          const int64_t i0 = nOpen * c / openChunks;
          const int64_t i1 = nOpen * (c + 1) / openChunks;
          std::vector<QueryBound> bounds;
          bounds.reserve(static_cast<size_t>(i1 - i0));
          for (int64_t i = i0; i < i1; i++) bounds.emplace_back(kb[unsettled[i]], eb[unsettled[i]]);
          for (int64_t r = 0; r < rowsA; r++) {
            const float* row = dots + r * rowsB;
            for (int64_t i = i0; i < i1; i++) {
              const int64_t t = unsettled[i];
              double d = (nb[t] + na[r]) - 2.0 * static_cast<double>(row[t]);
              if (d < 0) d = 0;
              bounds[i - i0].observe(d, k);
            }
          }
          for (int64_t i = i0; i < i1; i++) {
            bounds[i - i0].settle(k);
            colKeep[unsettled[i]] = bounds[i - i0].keep;
          }
        }
      });
      for (int64_t t = 0; t < rowsB; t++) {
        const bool usable = pretest && std::isfinite(colKeep[t]) && std::fabs(colKeep[t]) < kPretestLimit;
        // −∞: the plain test for every pair.
        colFloor[t] = usable ? pretestFloor(nb[t], colKeep[t], naMax) : -std::numeric_limits<float>::infinity();
      }
      for (int64_t r = 0; r < rowsA; r++) halfA[r] = static_cast<float>(na[r] * 0.5);
    }

    // One sweep over the tile in row chunks (one per thread): each row's candidates as a query,
    // and the candidates of every column with a finite bound, kept per chunk as (column, row,
    // distance) in row order and scattered per column afterwards, chunk after chunk.
    const int64_t chunks = std::min<int64_t>(threads, rowsA);
    std::vector<std::vector<int32_t>> rowIndexParts(chunks);
    std::vector<std::vector<double>> rowDistParts(chunks);
    std::vector<std::vector<int32_t>> colTParts(chunks), colRParts(chunks);
    std::vector<std::vector<double>> colDParts(chunks);
    std::vector<int32_t> rowStart(static_cast<size_t>(rowsA) + 1, 0);
    at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; c++) {
        auto& index = rowIndexParts[c];
        auto& dist = rowDistParts[c];
        auto& colT = colTParts[c];
        auto& colR = colRParts[c];
        auto& colD = colDParts[c];
        for (int64_t r = rowsA * c / chunks; r < rowsA * (c + 1) / chunks; r++) {
          const float* row = dots + r * rowsB;
          const double qa = na[r];
          QueryBound bound(ka[r], ea[r]);
          auto distance = [&](int64_t t) {
            double d = (qa + nb[t]) - 2.0 * static_cast<double>(row[t]);
            return d < 0 ? 0.0 : d;
          };
          if (bound.unsettled()) {
            for (int64_t t = 0; t < rowsB; t++) bound.observe(distance(t), k);
            bound.settle(k);
          }
          auto test = [&](int64_t t) {
            const double d = distance(t);
            if (bound.admit(d)) {
              index.push_back(static_cast<int32_t>(t));
              dist.push_back(d);
            }
          };
          int64_t t = 0;
          if (pretest && std::isfinite(bound.keep) && std::fabs(bound.keep) < kPretestLimit) {
            const float floor = pretestFloor(qa, bound.keep, nbMax);
            for (; t < blockEnd; t += kBlock) {
              if (!anyAtLeast(row + t, halfB.data() + t, floor)) continue;
              for (int64_t j = t; j < t + kBlock; j++) test(j);
            }
          }
          for (; t < rowsB; t++) test(t);
          rowStart[r + 1] = static_cast<int32_t>(index.size());  // within the chunk; offset below
          if (!columns) continue;
          auto testCol = [&](int64_t u) {
            double d = (nb[u] + qa) - 2.0 * static_cast<double>(row[u]);
            if (d < 0) d = 0;
            if (d <= colKeep[u]) {
              colT.push_back(static_cast<int32_t>(u));
              colR.push_back(static_cast<int32_t>(r));
              colD.push_back(d);
            }
          };
          const float half = halfA[r];
          int64_t u = 0;
          for (; u < blockEnd; u += kBlock) {
            if (!anyAtLeastScalar(row + u, half, colFloor.data() + u)) continue;
            for (int64_t j = u; j < u + kBlock; j++) testCol(j);
          }
          for (; u < rowsB; u++) testCol(u);
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
      std::vector<int32_t> colStart(static_cast<size_t>(rowsB) + 1, 0);
      for (int64_t c = 0; c < chunks; c++)
        for (int32_t t : colTParts[c]) colStart[t + 1]++;
      for (int64_t t = 0; t < rowsB; t++) colStart[t + 1] += colStart[t];
      std::vector<int32_t> flatIndex(static_cast<size_t>(colStart[rowsB]));
      std::vector<double> flatDist(flatIndex.size());
      std::vector<int32_t> fill(colStart.begin(), colStart.end() - 1);
      for (int64_t c = 0; c < chunks; c++) {
        const auto& colT = colTParts[c];
        for (size_t i = 0; i < colT.size(); i++) {
          const int32_t slot = fill[colT[i]]++;
          flatIndex[slot] = colRParts[c][i];
          flatDist[slot] = colDParts[c][i];
        }
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

// The k-NN's exact distances from query q to the references idx[from .. from + count), into out:
// (|q|² + |r|²) − 2·s clamped at 0, s = Σ_d q_d·r_d summed in float64 in order d = 0 … dim − 1,
// exactly the JS exact path's arithmetic (no fused multiply-add: this file is built without it),
// four references at a time as four independent sums.
// Arguments: queries, q, queryNorm, references, refNorms, dim, idx, from, count, out.
Napi::Value ExactDistances(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    auto queries = float32Arg(info[0], "queries");
    const int64_t q = info[1].As<Napi::Number>().Int64Value();
    const double qn = info[2].As<Napi::Number>().DoubleValue();
    auto references = float32Arg(info[3], "references");
    auto refNorms = float64Arg(info[4], "refNorms");
    const int64_t dim = info[5].As<Napi::Number>().Int64Value();
    if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw Napi::TypeError::New(env, "torch engine: exactDistances: idx must be an Int32Array");
    }
    auto idx = info[6].As<Napi::Int32Array>();
    const int64_t from = info[7].As<Napi::Number>().Int64Value();
    const int64_t count = info[8].As<Napi::Number>().Int64Value();
    auto out = float64Arg(info[9], "out");
    const int64_t nRef = static_cast<int64_t>(refNorms.ElementLength());
    if (dim < 1 || q < 0 || (q + 1) * dim > static_cast<int64_t>(queries.ElementLength()) ||
        static_cast<int64_t>(references.ElementLength()) < nRef * dim || from < 0 || count < 0 ||
        from + count > static_cast<int64_t>(idx.ElementLength()) || count > static_cast<int64_t>(out.ElementLength())) {
      throw std::runtime_error("arguments out of range");
    }
    const float* x = queries.Data() + q * dim;
    const float* r = references.Data();
    const double* rn = refNorms.Data();
    const int32_t* list = idx.Data() + from;
    double* o = out.Data();
    for (int64_t t = 0; t < count; t++) {
      if (list[t] < 0 || list[t] >= nRef) throw std::runtime_error("reference index out of range");
    }
    int64_t t = 0;
    for (; t + 4 <= count; t += 4) {
      const float* r0 = r + static_cast<int64_t>(list[t]) * dim;
      const float* r1 = r + static_cast<int64_t>(list[t + 1]) * dim;
      const float* r2 = r + static_cast<int64_t>(list[t + 2]) * dim;
      const float* r3 = r + static_cast<int64_t>(list[t + 3]) * dim;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int64_t d = 0; d < dim; d++) {
        const double v = x[d];
        s0 += v * static_cast<double>(r0[d]);
        s1 += v * static_cast<double>(r1[d]);
        s2 += v * static_cast<double>(r2[d]);
        s3 += v * static_cast<double>(r3[d]);
      }
      o[t] = std::max((qn + rn[list[t]]) - 2.0 * s0, 0.0);
      o[t + 1] = std::max((qn + rn[list[t + 1]]) - 2.0 * s1, 0.0);
      o[t + 2] = std::max((qn + rn[list[t + 2]]) - 2.0 * s2, 0.0);
      o[t + 3] = std::max((qn + rn[list[t + 3]]) - 2.0 * s3, 0.0);
    }
    for (; t < count; t++) {
      const float* r0 = r + static_cast<int64_t>(list[t]) * dim;
      double s0 = 0;
      for (int64_t d = 0; d < dim; d++) s0 += static_cast<double>(x[d]) * static_cast<double>(r0[d]);
      o[t] = std::max((qn + rn[list[t]]) - 2.0 * s0, 0.0);
    }
    return env.Undefined();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("torch engine: exactDistances: ") + e.what());
  }
}

}  // namespace curricula
