package attnspark.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import attnspark.api.EmbeddingResult;
import attnspark.api.ModelOptions;
import attnspark.api.TextEmbedder;
import attnspark.load.Models;
import attnspark.testutil.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** MTEB's published STSBenchmark figure for all-MiniLM-L6-v2: cos-sim Spearman 82.03. */
class StsBenchmarkTest {
    @Test
    void spearmanReproducesPublishedMtebFigure() throws Exception {
        Path csv = Shared.require("data/stsb/sts-test.csv");
        List<String> a = new ArrayList<>(), b = new ArrayList<>();
        List<Double> gold = new ArrayList<>();
        for (String line : Files.readAllLines(csv)) {
            String[] f = line.split("\t");
            if (f.length < 7) continue;
            gold.add(Double.parseDouble(f[4]));
            a.add(f[5]);
            b.add(f[6]);
        }
        assertEquals(1379, gold.size());
        double[] cos = new double[gold.size()];
        try (TextEmbedder e = Models.loadEmbedder(ModelOptions.defaults())) {
            List<String> all = new ArrayList<>(a);
            all.addAll(b);
            List<EmbeddingResult> v = e.embed(all);
            for (int i = 0; i < cos.length; i++) {
                float[] x = v.get(i).vector(), y = v.get(i + cos.length).vector();
                double dot = 0, nx = 0, ny = 0;
                for (int d = 0; d < x.length; d++) {
                    dot += x[d] * y[d];
                    nx += x[d] * x[d];
                    ny += y[d] * y[d];
                }
                cos[i] = dot / Math.sqrt(nx * ny);
            }
        }
        double[] g = gold.stream().mapToDouble(Double::doubleValue).toArray();
        double rho = 100 * pearson(ranks(cos), ranks(g));
        System.out.printf("STSBenchmark test Spearman x100 = %.4f%n", rho);
        assertEquals(82.03, rho, 0.01);
    }

    /** Average ranks for ties, as scipy.stats.spearmanr. */
    static double[] ranks(double[] x) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (p, q) -> Double.compare(x[p], x[q]));
        double[] r = new double[x.length];
        for (int i = 0; i < idx.length; ) {
            int j = i;
            while (j + 1 < idx.length && x[idx[j + 1]] == x[idx[i]]) j++;
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) r[idx[k]] = avg;
            i = j + 1;
        }
        return r;
    }

    static double pearson(double[] x, double[] y) {
        double mx = Arrays.stream(x).average().orElse(0),
                my = Arrays.stream(y).average().orElse(0);
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.sqrt(sxx * syy);
    }
}
