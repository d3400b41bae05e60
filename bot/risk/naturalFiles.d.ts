/**
 * Types for natural's modules imported file by file. Its index files load every stemmer,
 * classifier and corpus it has (a tenth of a second and more of each start); its types describe
 * only the index files.
 */
declare module 'natural/lib/natural/classifiers/bayes_classifier.js' {
  import { BayesClassifier } from 'natural/lib/natural/classifiers/index.js';
  export default BayesClassifier;
}

declare module 'natural/lib/natural/stemmers/porter_stemmer.js' {
  import { PorterStemmer } from 'natural/lib/natural/stemmers/index.js';
  export default PorterStemmer;
}

declare module 'natural/lib/natural/distance/jaro-winkler_distance.js' {
  import { JaroWinklerDistance } from 'natural/lib/natural/distance/index.js';
  export default JaroWinklerDistance;
}
