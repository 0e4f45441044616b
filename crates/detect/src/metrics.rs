//! Ranking metrics at inspection budgets: precision and recall in the top
//! k rows, PR-AUC (average precision) and ROC-AUC. Ties in score are
//! resolved pessimistically-neutral: tied rows are treated as one group
//! whose positives are spread evenly, so a constant score earns the base
//! rate and no credit from row order.

/// Average precision (area under the precision-recall curve, step-wise),
/// with tied scores grouped. `None` when there are no positives.
pub fn pr_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|l| **l).count();
    if pos == 0 {
        return None;
    }
    let order = order_desc(scores);
    let (mut tp, mut seen, mut ap) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        let (mut gp, mut gn) = (0.0, 0.0);
        while j < order.len() && same(scores[order[j]], scores[order[i]]) {
            if labels[order[j]] {
                gp += 1.0;
            } else {
                gn += 1.0;
            }
            j += 1;
        }
        // Within a tied group, precision is taken at the group's end.
        tp += gp;
        seen += gp + gn;
        ap += gp * (tp / seen);
        i = j;
    }
    // Divided once at the end, a perfect ranking gives exactly 1.
    Some(ap / pos as f64)
}

/// Area under the ROC curve (probability a random positive outranks a
/// random negative, ties counting one half). `None` without both classes.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let pos = labels.iter().filter(|l| **l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return None;
    }
    let mut order = order_desc(scores);
    order.reverse();
    // Mid-ranks over ascending order.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && same(scores[order[j]], scores[order[i]]) {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0;
        rank_sum += order[i..j].iter().filter(|k| labels[**k]).count() as f64 * mid;
        i = j;
    }
    Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Expected (precision, recall) when inspecting the top `k` rows, ties at
/// the cut-off shared proportionally. Recall is `None` without positives.
pub fn at_k(scores: &[f64], labels: &[bool], k: usize) -> (f64, Option<f64>) {
    let pos = labels.iter().filter(|l| **l).count() as f64;
    let k = k.min(scores.len());
    if k == 0 {
        return (0.0, if pos > 0.0 { Some(0.0) } else { None });
    }
    let order = order_desc(scores);
    let mut tp = 0.0;
    let mut taken = 0usize;
    let mut i = 0;
    while i < order.len() && taken < k {
        let mut j = i;
        let mut gp = 0.0;
        while j < order.len() && same(scores[order[j]], scores[order[i]]) {
            if labels[order[j]] {
                gp += 1.0;
            }
            j += 1;
        }
        let size = (j - i) as f64;
        let take = (k - taken).min(j - i);
        tp += gp * take as f64 / size;
        taken += take;
        i = j;
    }
    (tp / k as f64, if pos > 0.0 { Some(tp / pos) } else { None })
}

/// Rows inspected at a budget of `percent`% of `n` rows (rounded up, at least one).
pub fn budget_rows(n: usize, percent: f64) -> usize {
    sentinel_manifest::domain::Budget::Percent(percent).rows(n)
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Indices by descending score (NaN last), equal scores in input order.
/// Each score becomes an integer key that sorts as the score descends
/// (-0.0 as 0.0, every NaN as the largest key), so the pairs of key and
/// index are all distinct and an unstable sort of them, without looking
/// the scores up, gives the stable order.
pub fn order_desc(scores: &[f64]) -> Vec<usize> {
    let key = |x: f64| -> u64 {
        if x.is_nan() {
            return u64::MAX;
        }
        let bits = (x + 0.0).to_bits();
        // Ascending in x: negative numbers flipped, positive ones above them.
        let ascending = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
        !ascending
    };
    let mut pairs: Vec<(u64, usize)> = scores.iter().enumerate().map(|(i, &x)| (key(x), i)).collect();
    pairs.sort_unstable();
    pairs.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn order_is_descending_nan_last_ties_in_input_order() {
        // The plain stable sort it replaced is the reference.
        let reference = |scores: &[f64]| -> Vec<usize> {
            let mut idx: Vec<usize> = (0..scores.len()).collect();
            idx.sort_by(|&a, &b| {
                let (x, y) = (scores[a], scores[b]);
                match (x.is_nan(), y.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
                }
            });
            idx
        };
        let special = [
            0.0,
            -0.0,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            1.0,
            -1.0,
            0.5,
        ];
        let mut rnd = sentinel_manifest::hash::test_uniform(3);
        let mut scores: Vec<f64> = Vec::new();
        for _ in 0..5000 {
            let u = rnd();
            scores.push(if u < 0.3 {
                special[(rnd() * special.len() as f64) as usize % special.len()]
            } else {
                // Few distinct values, so many ties.
                ((u - 0.65) * 20.0).round() / 7.0
            });
        }
        assert_eq!(order_desc(&scores), reference(&scores));
        assert_eq!(order_desc(&[]), Vec::<usize>::new());
        assert_eq!(order_desc(&[f64::NAN, 0.2, -0.0, 0.0, 0.2]), [1, 4, 2, 3, 0]);
    }

    #[test]
    fn perfect_and_reversed_rankings() {
        let s = [0.9, 0.8, 0.3, 0.1];
        let l = [true, true, false, false];
        assert!(close(pr_auc(&s, &l).unwrap(), 1.0));
        assert!(close(roc_auc(&s, &l).unwrap(), 1.0));
        let r = [false, false, true, true];
        // positives at ranks 3 and 4: AP = (1/3 + 2/4) / 2
        assert!(close(pr_auc(&s, &r).unwrap(), (1.0 / 3.0 + 0.5) / 2.0));
        assert!(close(roc_auc(&s, &r).unwrap(), 0.0));
        // A perfect ranking of many rows is exactly 1, never a hair above.
        let s: Vec<f64> = (0..1000).map(|i| -(i as f64)).collect();
        let l: Vec<bool> = (0..1000).map(|i| i < 7 || i % 250 == 0 && i < 10).collect();
        assert_eq!(pr_auc(&s, &l).unwrap(), 1.0);
        let l: Vec<bool> = (0..1000).map(|i| i < 333).collect();
        assert_eq!(pr_auc(&s, &l).unwrap(), 1.0);
    }

    #[test]
    fn hand_computed_average_precision() {
        // ranks: P N P N N -> AP = (1/1 + 2/3) / 2
        let s = [5.0, 4.0, 3.0, 2.0, 1.0];
        let l = [true, false, true, false, false];
        assert!(close(pr_auc(&s, &l).unwrap(), (1.0 + 2.0 / 3.0) / 2.0));
        // ROC: positive 5 beats 3 negatives, positive 3 beats 2 -> 5/6
        assert!(close(roc_auc(&s, &l).unwrap(), 5.0 / 6.0));
    }

    #[test]
    fn ties_earn_the_base_rate() {
        let s = [1.0; 10];
        let l: Vec<bool> = (0..10).map(|i| i < 2).collect();
        assert!(close(pr_auc(&s, &l).unwrap(), 0.2));
        assert!(close(roc_auc(&s, &l).unwrap(), 0.5));
        let (p, r) = at_k(&s, &l, 5);
        assert!(close(p, 0.2));
        assert!(close(r.unwrap(), 0.5));
    }

    #[test]
    fn no_positives_and_all_positives() {
        let s = [0.3, 0.2];
        assert!(pr_auc(&s, &[false, false]).is_none());
        assert!(roc_auc(&s, &[false, false]).is_none());
        assert!(roc_auc(&s, &[true, true]).is_none());
        assert!(close(pr_auc(&s, &[true, true]).unwrap(), 1.0));
        let (p, r) = at_k(&s, &[false, false], 1);
        assert!(close(p, 0.0));
        assert!(r.is_none());
        let (p, r) = at_k(&s, &[true, true], 1);
        assert!(close(p, 1.0));
        assert!(close(r.unwrap(), 0.5));
    }

    #[test]
    fn precision_recall_at_budget() {
        let s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
        let l = [true, false, true, false, false, false, false, false, false, true];
        let (p, r) = at_k(&s, &l, 2);
        assert!(close(p, 0.5));
        assert!(close(r.unwrap(), 1.0 / 3.0));
        assert_eq!(budget_rows(10, 10.0), 1);
        assert_eq!(budget_rows(1000, 0.5), 5);
    }
}
