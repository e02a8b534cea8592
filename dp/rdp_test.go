package dp

import (
	"math"
	"testing"
)

// tfPrivacyOrders is the order grid of TF Privacy's compute_dp_sgd_privacy_lib
// and compute_noise_from_budget_lib.
func tfPrivacyOrders() []float64 {
	orders := []float64{1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5}
	for a := 5; a < 64; a++ {
		orders = append(orders, float64(a))
	}
	return append(orders, 128, 256, 512)
}

// dpAccountingOrders is dp_accounting's RdpAccountant DEFAULT_RDP_ORDERS.
func dpAccountingOrders() []float64 {
	var orders []float64
	for x := 1; x < 100; x++ {
		orders = append(orders, 1+float64(x)/10)
	}
	for a := 11; a < 64; a++ {
		orders = append(orders, float64(a))
	}
	return append(orders, 128, 256, 512, 1024)
}

// epsilonFromRDPClassic is the original conversion of Mironov (2017),
// Proposition 3: epsilon = min over orders of rdp - log(delta)/(alpha-1).
// zkdp never uses it; it exists to reproduce references computed by older
// TF Privacy releases.
func epsilonFromRDPClassic(orders, rdp []float64, delta float64) (float64, float64) {
	best, bestOrder := math.Inf(1), 0.0
	for k, alpha := range orders {
		if eps := rdp[k] - math.Log(delta)/(alpha-1); eps < best {
			best, bestOrder = eps, alpha
		}
	}
	return best, bestOrder
}

func acctRelErr(got, want float64) float64 {
	return math.Abs(got-want) / math.Abs(want)
}

// TestRDPEpsilonReferences recomputes published epsilon values of the
// Poisson-subsampled Gaussian RDP accountant. Step-count conventions: TF
// Privacy's compute_dp_sgd_privacy uses steps = ceil(epochs*n/batch) and
// q = batch/n; _compute_dp_sgd_example_privacy uses
// count = ceil(epochs/q) (q=1: ceil(epochs)) and halves sigma when
// microbatching; Opacus's test uses steps = int(epochs/q).
func TestRDPEpsilonReferences(t *testing.T) {
	type ref struct {
		name      string
		source    string
		q, sigma  float64
		steps     int
		delta     float64
		orders    []float64
		variant   fracSeriesVariant
		want      float64
		wantOrder float64 // 0: not stated by the source
		classic   bool    // reference used the pre-2020 conversion (epsilonFromRDPClassic)
	}
	refs := []ref{
		{"tf-mnist-example", "tensorflow/privacy tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py Test0: n=60000 batch=150 sigma=1.3 epochs=15 delta=1e-5 -> eps 0.7242234026109595, order 19",
			150.0 / 60000, 1.3, 6000, 1e-5, tfPrivacyOrders(), fracSeriesAbsolute, 0.7242234026109595, 19, false},
		{"tf-test1", "tensorflow/privacy compute_dp_sgd_privacy_test.py Test1: n=1e5 batch=100 sigma=1.0 epochs=30 delta=1e-7 -> eps 1.4154988495444845, order 13",
			100.0 / 100000, 1.0, 30000, 1e-7, tfPrivacyOrders(), fracSeriesAbsolute, 1.4154988495444845, 13, false},
		{"tf-test2-tiny-sigma", "tensorflow/privacy compute_dp_sgd_privacy_test.py Test2: n=1e8 batch=1024 sigma=0.1 epochs=10 delta=1e-7 -> eps 5907982.31138195, order 1.25",
			1024.0 / 1e8, 0.1, 976563, 1e-7, tfPrivacyOrders(), fracSeriesAbsolute, 5907982.31138195, 1.25, false},
		{"tf-example-subsampled", "tensorflow/privacy compute_dp_sgd_privacy_test.py no_microbatching_with_subsampling_rdp: epochs=1.2 sigma=0.7 q=1e-2 delta=1e-5 -> 3.2392676",
			0.01, 0.7, 120, 1e-5, dpAccountingOrders(), fracSeriesAbsolute, 3.2392676, 0, false},
		{"tf-example-subsampled-microbatch", "tensorflow/privacy compute_dp_sgd_privacy_test.py microbatching_with_subsampling_rdp: sigma 0.7/2, q=1e-2, 120 steps, delta=1e-5 -> 22.6248601",
			0.01, 0.35, 120, 1e-5, dpAccountingOrders(), fracSeriesAbsolute, 22.6248601, 0, false},
		{"tf-example-full-batch", "tensorflow/privacy compute_dp_sgd_privacy_test.py no_microbatching_no_subsampling_rdp: sigma=0.7, ceil(1.2)=2 steps, delta=1e-5 -> 10.8602036",
			1, 0.7, 2, 1e-5, dpAccountingOrders(), fracSeriesAbsolute, 10.8602036, 0, false},
		{"tf-example-full-batch-microbatch", "tensorflow/privacy compute_dp_sgd_privacy_test.py microbatching_no_subsampling_rdp: sigma=0.35, 2 steps, delta=1e-5 -> 26.2880374",
			1, 0.35, 2, 1e-5, dpAccountingOrders(), fracSeriesAbsolute, 26.2880374, 0, false},
		{"tf-statement-poisson", "tensorflow/privacy compute_dp_sgd_privacy_test.py privacy statement: n=10000 batch=64 epochs=5 sigma=2.0 (microbatching: 1.0) delta=1e-6, Poisson -> 1.616 (3 decimals)",
			64.0 / 10000, 1.0, 782, 1e-6, dpAccountingOrders(), fracSeriesAbsolute, 1.616, 0, false},
		{"tf-statement-once-per-epoch", "tensorflow/privacy compute_dp_sgd_privacy_test.py privacy statement: sigma 1.0, 5 full-batch steps, delta=1e-6 -> 13.376 (3 decimals)",
			1, 1.0, 5, 1e-6, dpAccountingOrders(), fracSeriesAbsolute, 13.376, 0, false},
		{"opacus-rdp-accountant", "pytorch/opacus opacus/tests/accountants_test.py test_rdp_accountant: sigma=1.5 q=0.04 steps=int(90/0.04) delta=1e-5 -> 7.32911117143",
			0.04, 1.5, 2250, 1e-5, DefaultOrders(), fracSeriesSigned, 7.32911117143, 0, false},
		{"tf-test2-signed-series", "tensorflow/privacy compute_dp_sgd_privacy_test.py Test2, earlier revision (signed fractional series): -> 5907982.31138195, order 1.25",
			1024.0 / 1e8, 0.1, 976563, 1e-7, tfPrivacyOrders(), fracSeriesSigned, 5907982.31138195, 1.25, false},
		// TF Privacy's compute_noise_from_budget_test.py: compute_noise(n, batch,
		// target_epsilon, epochs, delta) must return the stated noise, so the
		// stated target is epsilon(noise) under that release's accountant:
		// classic conversion, signed series, TF orders, steps=ceil(epochs*n/batch).
		{"tf-noise-test0-classic", "tensorflow/privacy tensorflow_privacy/privacy/analysis/compute_noise_from_budget_test.py Test0: n=60000 batch=150 eps=0.941870567 epochs=15 delta=1e-5 -> noise 1.3",
			150.0 / 60000, 1.3, 6000, 1e-5, tfPrivacyOrders(), fracSeriesSigned, 0.941870567, 0, true},
		{"tf-noise-test1-classic", "tensorflow/privacy compute_noise_from_budget_test.py Test1: n=1e5 batch=100 eps=1.70928734 epochs=30 delta=1e-7 -> noise 1.0",
			100.0 / 100000, 1.0, 30000, 1e-7, tfPrivacyOrders(), fracSeriesSigned, 1.70928734, 0, true},
		{"tf-noise-test2-classic", "tensorflow/privacy compute_noise_from_budget_test.py Test2: n=1e8 batch=1024 eps=5907984.81339406 epochs=10 delta=1e-7 -> noise 0.1",
			1024.0 / 1e8, 0.1, 976563, 1e-7, tfPrivacyOrders(), fracSeriesSigned, 5907984.81339406, 0, true},
	}
	for _, r := range refs {
		t.Run(r.name, func(t *testing.T) {
			seg := []Segment{{SamplingRate: r.q, NoiseMultiplier: r.sigma, Steps: r.steps}}
			eps, order := rdpEpsilon(seg, r.delta, r.orders, r.variant)
			if r.classic {
				eps, order = epsilonFromRDPClassic(r.orders, rdpTotal(seg, r.orders, r.variant), r.delta)
			}
			if acctRelErr(eps, r.want) > 1e-3 {
				t.Errorf("epsilon = %.10g, want %.10g (rel err %.2g); source: %s", eps, r.want, acctRelErr(eps, r.want), r.source)
			}
			if r.wantOrder != 0 && order != r.wantOrder {
				t.Errorf("optimal order = %v, want %v; source: %s", order, r.wantOrder, r.source)
			}
		})
	}
}

// TestRDPValueReferences checks raw per-composition RDP values.
func TestRDPValueReferences(t *testing.T) {
	type ref struct {
		source          string
		q, sigma, order float64
		steps           int
		variant         fracSeriesVariant
		want            float64
	}
	const dpAcc = "google/differential-privacy python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py test_compute_rdp_poisson_sampled_gaussian: q=0.01 sigma=2.5 count=50"
	refs := []ref{
		{dpAcc + " order 1.5 -> 6.70579741e-04", 0.01, 2.5, 1.5, 50, fracSeriesAbsolute, 6.70579741e-04},
		{dpAcc + " order 2.5 -> 1.08548710e-03", 0.01, 2.5, 2.5, 50, fracSeriesAbsolute, 1.08548710e-03},
		{dpAcc + " order 5 -> 2.18075656e-03", 0.01, 2.5, 5, 50, fracSeriesAbsolute, 2.18075656e-03},
		{dpAcc + " order 50 -> 2.38460375e-02", 0.01, 2.5, 50, 50, fracSeriesAbsolute, 2.38460375e-02},
		{dpAcc + " order 100 -> 1.67416308e02", 0.01, 2.5, 100, 50, fracSeriesAbsolute, 1.67416308e02},
		{"tensorflow/privacy tensorflow_privacy/privacy/analysis/rdp_accountant_test.py test_compute_rdp_scalar: compute_rdp(q=0.1, sigma=2, steps=10, order=5) -> 0.07737 (5 places)",
			0.1, 2, 5, 10, fracSeriesSigned, 0.07737},
	}
	// The same setting in TF Privacy's original accountant (signed series):
	// rdp_accountant_test.py test_compute_rdp_sequence states
	// [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307] at orders
	// [1.5, 2.5, 5, 50, 100]; the fractional orders differ from dp_accounting's
	// values above only because of the series variant.
	const tfOld = "tensorflow/privacy tensorflow_privacy/privacy/analysis/rdp_accountant_test.py test_compute_rdp_sequence: compute_rdp(0.01, 2.5, 50, orders)"
	for i, pair := range [][2]float64{{1.5, 0.00065}, {2.5, 0.001085}, {5, 0.00218075}, {50, 0.023846}, {100, 167.416307}} {
		refs = append(refs, ref{tfOld + " order " + []string{"1.5", "2.5", "5", "50", "100"}[i], 0.01, 2.5, pair[0], 50, fracSeriesSigned, pair[1]})
	}
	for _, r := range refs {
		got := float64(r.steps) * rdpPerStep(r.q, r.sigma, []float64{r.order}, r.variant)[0]
		if acctRelErr(got, r.want) > 1e-3 {
			t.Errorf("rdp = %.10g, want %.10g; source: %s", got, r.want, r.source)
		}
	}
}

// TestRDPConversionReferences checks the RDP -> (epsilon, delta) conversion
// on its own.
func TestRDPConversionReferences(t *testing.T) {
	// dp_accounting rdp_privacy_accountant_test.py test_compute_epsilon_delta_pure_dp:
	// constant RDP 1.1 at orders 2..32, delta=1e-5 -> epsilon 1.32783806176 at order 32.
	var orders, rdp []float64
	for a := 2; a <= 32; a++ {
		orders = append(orders, float64(a))
		rdp = append(rdp, 1.1)
	}
	eps, order := epsilonFromRDP(orders, rdp, 1e-5)
	if acctRelErr(eps, 1.32783806176) > 1e-9 || order != 32 {
		t.Errorf("pure DP: eps=%v order=%v, want 1.32783806176 at 32", eps, order)
	}

	// dp_accounting test_compute_epsilon_delta_gaussian: q=1,
	// sigma=4.530877117 is exactly (1, 1e-6)-DP; orders 1.000..99.999 step 0.001.
	orders = orders[:0]
	for i := 1000; i < 100000; i++ {
		orders = append(orders, 0.001*float64(i))
	}
	rdp = rdpPerStep(1, 4.530877117, orders, fracSeriesAbsolute)
	eps, _ = epsilonFromRDP(orders, rdp, 1e-6)
	if math.Abs(eps-1) > 1e-7 {
		t.Errorf("Gaussian: eps=%v, want 1", eps)
	}
}
